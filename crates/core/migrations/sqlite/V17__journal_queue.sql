-- PostgreSQL's V17 queues journal records for a sealer and draws order numbers from a
-- sequence, so that no writer waits on another's commit. SQLite has one writer at a time:
-- it numbers its records and order numbers itself, as before. Nothing changes here; the
-- migration keeps both backends' versions in step.
SELECT 1;
