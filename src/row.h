/*-------------------------------------------------------------------------
 *
 * row.h
 *		Columns of a row by name: a composite value deformed into its
 *		columns, the position of a named column, and the row formed again.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ALFRED_ROW_H
#define ALFRED_ROW_H

#include "access/htup.h"
#include "access/tupdesc.h"

/* A composite value as its descriptor and deformed columns (all palloc'd). */
typedef struct AlfredRow
{
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} AlfredRow;

extern int	alfred_attnum(TupleDesc desc, const char *name);
extern void alfred_row_read(HeapTupleHeader th, AlfredRow *row);
extern int	alfred_row_column(const AlfredRow *row, const char *name);
extern Datum alfred_row_datum(const AlfredRow *row);

#endif							/* ALFRED_ROW_H */
