-- alfred.render_template: placeholders, JSON rendering, escapes, errors
SET timezone = 'UTC';
SELECT alfred.render_template('Good morning {{user.name}}, it is {{ args.temp }} in {{args.city}}.',
  '{"user": {"name": "Ada"}, "args": {"city": "Paris", "temp": 21.5}}');
SELECT alfred.render_template('{{{user.name}}} <{{args.html}}>', '{"user": {"name": "Ada"}, "args": {"html": "<b>&</b>"}}');
SELECT alfred.render_template('n={{a}} f={{b}} z={{c}} l={{d}} o={{e}} big={{f}} dec={{g}} min={{h}}',
  '{"a": 42, "b": false, "c": null, "d": [1, "x", {"k": 2}], "e": {"z": 1, "a": [true]}, "f": 12345678901234567890, "g": 0.1, "h": -9223372036854775808}');
SELECT alfred.render_template('first={{items.0.name}} second={{items.1.name}}', '{"items": [{"name": "milk"}, {"name": "eggs"}]}');
SELECT alfred.render_template('literal \{{user.name}} and {single}', '{}');
SELECT alfred.render_template('no placeholders', '{}');
SELECT alfred.render_template('{{x}}', '{"x": "caf\u00e9 \u2603"}');
SELECT alfred.render_template(NULL, '{}') IS NULL AS null_in_null_out;
-- errors: 22023, naming the key or the offset
\set VERBOSITY default
SELECT alfred.render_template('Hi {{user.nickname}}', '{"user": {"name": "Ada"}}');
SELECT alfred.render_template('{{user.name.first}}', '{"user": {"name": "Ada"}}');
SELECT alfred.render_template('{{items.2}}', '{"items": [1, 2]}');
SELECT alfred.render_template('{{x}}', '"just a string"');
SELECT alfred.render_template('oops {{user.name', '{"user": {"name": "Ada"}}');
SELECT alfred.render_template('{{user name}}', '{}');
SELECT alfred.render_template('{{}}', '{}');
\set VERBOSITY terse
DO $$
BEGIN
  PERFORM alfred.render_template('{{missing}}', '{}');
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE NOTICE 'sqlstate 22023: %', SQLERRM;
END $$;
