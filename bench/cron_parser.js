// bench/cron_parser.js: the npm package cron-parser computing the same next
// fire times as alfred.cron_next, for bench/cron.sh.
//   node cron_parser.js ROWS_FILE EXPR TZ OUT_FILE
// ROWS_FILE holds one ISO-8601 UTC instant per line; OUT_FILE gets the next
// fire time of each.  Prints the milliseconds the timed loop took, after a
// warm-up pass over the first 1000 rows.  The expression is parsed once and
// reset() to each row, as alfred parses once (parsing per row is slower).
'use strict';
const fs = require('fs');
const { CronExpressionParser } = require('cron-parser');

const [, , rowsFile, expr, tz, outFile] = process.argv;
const dates = fs.readFileSync(rowsFile, 'utf8').trim().split('\n').map((l) => new Date(l));
const cron = CronExpressionParser.parse(expr, { tz, currentDate: dates[0] });
const out = new Array(dates.length);
for (let i = 0; i < Math.min(1000, dates.length); i++) {
	cron.reset(dates[i]);
	cron.next();
}
const t0 = process.hrtime.bigint();
for (let i = 0; i < dates.length; i++) {
	cron.reset(dates[i]);
	out[i] = cron.next().getTime();
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
fs.writeFileSync(outFile, out.map((t) => new Date(t).toISOString()).join('\n') + '\n');
console.log(ms.toFixed(1));
