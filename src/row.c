/*-------------------------------------------------------------------------
 *
 * row.c
 *		Columns of a row by name.
 *
 * The SQL wrappers that take a whole table row (calibration_state,
 * habits) and the triggers find the columns they read by name, so that a
 * table may gain columns, lose dropped ones or order them differently
 * after an upgrade than after a fresh install.  A missing column is an
 * internal error: the extension's own schema no longer matches its code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

#include "row.h"

/* The attribute number (1-based) of the column called name in desc. */
int
alfred_attnum(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	elog(ERROR, "row type %s has no column \"%s\"", format_type_be(desc->tdtypeid), name);
	return 0;					/* keep compiler quiet */
}

/* Deforms a composite value into row (a copy of its descriptor, its columns). */
void
alfred_row_read(HeapTupleHeader th, AlfredRow *row)
{
	HeapTupleData tuple;

	row->desc = lookup_rowtype_tupdesc_copy(HeapTupleHeaderGetTypeId(th),
											HeapTupleHeaderGetTypMod(th));
	row->values = palloc(row->desc->natts * sizeof(Datum));
	row->nulls = palloc(row->desc->natts * sizeof(bool));
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, row->desc, row->values, row->nulls);
}

/* Where the column called name sits in row->values and row->nulls (0-based). */
int
alfred_row_column(const AlfredRow *row, const char *name)
{
	return alfred_attnum(row->desc, name) - 1;
}

/* A new composite value of row's type from row's (possibly changed) columns. */
Datum
alfred_row_datum(const AlfredRow *row)
{
	return HeapTupleGetDatum(heap_form_tuple(row->desc, row->values, row->nulls));
}
