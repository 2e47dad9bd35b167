#!/usr/bin/env python3
"""The plans behind BENCHMARKS.md, "Query plans at 100k": every list query the core runs,
in its shape before the plans work ("old", the `($n = '' OR col = $n)` statements) and after
("new"), on the stores `STOCKYARD_PLANS_KEEP=DIR cargo bench -p stockyard-core --bench plans`
keeps. SQLite: EXPLAIN QUERY PLAN and the median of 5 runs. PostgreSQL: PREPARE, then
EXPLAIN (ANALYZE, BUFFERS) EXECUTE under plan_cache_mode = force_custom_plan and
force_generic_plan (the plan a prepared statement may switch to after five executions).

usage: python3 plans_explain.py DIR/stockyard.db stockyard_plans [part of a query name]"""
import json, re, sqlite3, subprocess, sys, time

lite_path, pgdb = sys.argv[1], sys.argv[2]
only = sys.argv[3] if len(sys.argv) > 3 else ''
lite = sqlite3.connect(f'file:{lite_path}?mode=ro', uri=True)

def one(sql):
    row = lite.execute(sql).fetchone()
    return row[0] if row else ''

P = {}
P['electronics'] = one("SELECT id FROM categories WHERE name = 'Electronics'")
P['garden'] = one("SELECT id FROM categories WHERE name = 'Garden'")
P['main'] = one("SELECT id FROM warehouses WHERE code = 'MAIN'")
P['west'] = one("SELECT id FROM warehouses WHERE code = 'WEST'")
P['product'] = one("SELECT id FROM products WHERE sku = 'KIT-50001'")
P['email'] = one("SELECT customer_email_index FROM orders GROUP BY 1 HAVING COUNT(*) > 1000 ORDER BY COUNT(*) LIMIT 1")
P['owner'] = one("SELECT owner FROM orders WHERE owner LIKE 'user:%' ORDER BY owner LIMIT 1 OFFSET 10000")
P['sku1000'] = one("SELECT sku FROM products WHERE deleted_at IS NULL ORDER BY sku LIMIT 1 OFFSET 999")
P['stocksku'], P['stockcode'] = lite.execute(
    "SELECT p.sku, w.code FROM stock_levels l JOIN products p ON p.id = l.product_id JOIN warehouses w ON w.id = l.warehouse_id ORDER BY p.sku, w.code LIMIT 1 OFFSET 999").fetchone()
P['number'] = one("SELECT MAX(number) - 1000 FROM orders")
P['audit_product'] = P['product']
P['notif1000'] = one("SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET 999")

PCOLS = "p.id, p.sku, p.name, p.description, p.price_minor, p.currency, p.category_id, p.attributes, p.barcode, p.active, p.version, p.created_at, p.updated_at"
OCOLS = "id, number, status, owner, customer_email, customer_name, customer_phone, customer_address, currency, total_minor, paid_minor, refunded_minor, refund_due, reservation_id, tracking_number, notes, version, created_at, updated_at"
ECOLS = "seq, event_type, aggregate_type, aggregate_id, payload, actor, occurred_at"
ACOLS = "seq, occurred_at, actor, action, entity_type, entity_id, before, after, request_id, prev_hash, hash"
NCOLS = "id, event_seq, channel, template, address, user_id, subject, body, html, status, attempts, last_error, next_attempt_at, read_at, created_at, updated_at, endpoint"
TREE = "p.category_id IN (WITH RECURSIVE tree(id) AS (SELECT id FROM categories WHERE id = $1 UNION SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id) SELECT id FROM tree)"
OLD_JOIN = "SELECT l.product_id, p.sku, w.code, l.on_hand, l.reserved, l.reorder_point, l.reorder_qty FROM stock_levels l JOIN products p ON p.id = l.product_id JOIN warehouses w ON w.id = l.warehouse_id"
LEVELS = "SELECT l.product_id, p.sku, w.code, l.on_hand, l.reserved, l.reorder_point, l.reorder_qty FROM products p CROSS JOIN stock_levels l CROSS JOIN warehouses w"
OLD_LEVELS = OLD_JOIN + " WHERE p.deleted_at IS NULL AND ($1 = '' OR l.product_id = $1) AND ($2 = '' OR l.warehouse_id = $2) AND (p.sku > $3 OR (p.sku = $3 AND w.code > $4)) AND ($5 = FALSE OR (l.reorder_point > 0 AND l.on_hand - l.reserved <= l.reorder_point)) ORDER BY p.sku, w.code LIMIT $6"
LOW = "l.reorder_point > 0 AND l.on_hand - l.reserved <= l.reorder_point"
HIST = "SELECT m.event_seq, w.code, m.kind, m.on_hand_delta, m.reserved_delta, m.on_hand_after, m.reserved_after, m.reason, m.reference, m.actor, m.occurred_at FROM stock_movements m JOIN warehouses w ON w.id = m.warehouse_id"
OLD_ORDERS = f"SELECT {OCOLS} FROM orders WHERE number < $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR customer_email_index = $3) AND ($4 = '' OR owner = $4) ORDER BY number DESC LIMIT $5"
MAX = 9223372036854775807

# name: (old sql, old params, new sql, new params, sqlite fts variant?)
Q = [
  ('products: first page', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL ORDER BY p.sku LIMIT $1", [51]),
  ('products: search one word', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND SEARCH($1) ORDER BY p.sku LIMIT $2", ['hub', 51]),
  ('products: search two words', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND SEARCH($1) ORDER BY p.sku LIMIT $2", ['classic keyboard', 51]),
  ('products: category subtree', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND {TREE} ORDER BY p.sku LIMIT $2", [P['electronics'], 51]),
  ('products: small category', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND {TREE} ORDER BY p.sku LIMIT $2", [P['garden'], 51]),
  ('products: attribute', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND EXISTS (SELECT 1 FROM product_attributes a WHERE a.product_id = p.id AND a.key = $1 AND a.value = $2) ORDER BY p.sku LIMIT $3", ['color', 'blue', 51]),
  ('products: price range', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND p.price_micros >= $1 AND p.price_micros <= $2 ORDER BY p.sku LIMIT $3", [100000000, 101000000, 51]),
  ('products: combined', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND SEARCH($1) AND {TREE.replace('$1', '$2')} AND p.price_micros >= $3 AND EXISTS (SELECT 1 FROM product_attributes a WHERE a.product_id = p.id AND a.key = $4 AND a.value = $5) ORDER BY p.sku LIMIT $6", ['pro', one("SELECT id FROM categories WHERE name = 'Home'"), 50000000, 'brand', 'Acme', 51]),
  ('products: next page by cursor', None, None, f"SELECT {PCOLS} FROM products p WHERE p.deleted_at IS NULL AND p.sku > $1 ORDER BY p.sku LIMIT $2", [P['sku1000'], 51]),
  ('stock: first page', OLD_LEVELS, ['', '', '', '', False, 51], LEVELS + " WHERE l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL ORDER BY p.sku, w.code LIMIT $1", [51]),
  ('stock: one warehouse', OLD_LEVELS, ['', P['west'], '', '', False, 51], LEVELS + " WHERE l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL AND l.warehouse_id = $1 ORDER BY p.sku, w.code LIMIT $2", [P['west'], 51]),
  ('stock: low', OLD_LEVELS, ['', '', '', '', True, 51], LEVELS + f" WHERE l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL AND {LOW} ORDER BY p.sku, w.code LIMIT $1", [51]),
  ('stock: low at one warehouse', OLD_LEVELS, ['', P['main'], '', '', True, 51], LEVELS + f" WHERE l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL AND l.warehouse_id = $1 AND {LOW} ORDER BY p.sku, w.code LIMIT $2", [P['main'], 51]),
  ('stock: one SKU', OLD_LEVELS, [P['product'], '', '', '', False, 51], LEVELS + " WHERE l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL AND p.id = $1 ORDER BY p.sku, w.code LIMIT $2", [P['product'], 51]),
  ('stock: next page by cursor', OLD_LEVELS, ['', '', P['stocksku'], P['stockcode'], False, 51], LEVELS + " WHERE l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL AND p.sku >= $1 AND (p.sku > $1 OR w.code > $2) ORDER BY p.sku, w.code LIMIT $3", [P['stocksku'], P['stockcode'], 51]),
  ('stock: history of one SKU', HIST + " WHERE m.product_id = $1 AND ($2 = '' OR m.warehouse_id = $2) AND m.event_seq > $3 ORDER BY m.event_seq LIMIT $4", [P['product'], '', 0, 51], HIST + " WHERE m.product_id = $1 AND m.event_seq > $2 ORDER BY m.event_seq LIMIT $3", [P['product'], 0, 51]),
  ('stock: history at one warehouse', HIST + " WHERE m.product_id = $1 AND ($2 = '' OR m.warehouse_id = $2) AND m.event_seq > $3 ORDER BY m.event_seq LIMIT $4", [P['product'], P['main'], 0, 51], HIST + " WHERE m.product_id = $1 AND m.warehouse_id = $2 AND m.event_seq > $3 ORDER BY m.event_seq LIMIT $4", [P['product'], P['main'], 0, 51]),
  ('orders: first page', OLD_ORDERS, [MAX, '', '', '', 51], f"SELECT {OCOLS} FROM orders ORDER BY number DESC LIMIT $1", [51]),
  ('orders: by status (common)', OLD_ORDERS, [MAX, 'delivered', '', '', 51], f"SELECT {OCOLS} FROM orders WHERE status = $1 ORDER BY number DESC LIMIT $2", ['delivered', 51]),
  ('orders: by status (rare)', OLD_ORDERS, [MAX, 'refunded', '', '', 51], f"SELECT {OCOLS} FROM orders WHERE status = $1 ORDER BY number DESC LIMIT $2", ['refunded', 51]),
  ('orders: by customer', OLD_ORDERS, [MAX, '', P['email'], '', 51], f"SELECT {OCOLS} FROM orders WHERE customer_email_index = $1 ORDER BY number DESC LIMIT $2", [P['email'], 51]),
  ('orders: by customer and status', OLD_ORDERS, [MAX, 'confirmed', P['email'], '', 51], f"SELECT {OCOLS} FROM orders WHERE status = $1 AND customer_email_index = $2 ORDER BY number DESC LIMIT $3", ['confirmed', P['email'], 51]),
  ("orders: a client's own", OLD_ORDERS, [MAX, '', '', P['owner'], 51], f"SELECT {OCOLS} FROM orders WHERE owner = $1 ORDER BY number DESC LIMIT $2", [P['owner'], 51]),
  ('orders: next page by cursor', OLD_ORDERS, [P['number'], '', '', '', 51], f"SELECT {OCOLS} FROM orders WHERE number < $1 ORDER BY number DESC LIMIT $2", [P['number'], 51]),
  ('audit: first page', f"SELECT {ACOLS} FROM audit_log WHERE seq > $1 AND ($2 = '' OR entity_type = $2) AND ($3 = '' OR entity_id = $3) ORDER BY seq LIMIT $4", [0, '', '', 51], f"SELECT {ACOLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", [0, 51]),
  ('audit: one entity type', f"SELECT {ACOLS} FROM audit_log WHERE seq > $1 AND ($2 = '' OR entity_type = $2) AND ($3 = '' OR entity_id = $3) ORDER BY seq LIMIT $4", [0, 'order', '', 51], f"SELECT {ACOLS} FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE seq > $1 AND entity_type = $2 ORDER BY seq ASC LIMIT $3) ORDER BY seq ASC", [0, 'order', 51]),
  ('audit: a rare entity type', f"SELECT {ACOLS} FROM audit_log WHERE seq > $1 AND ($2 = '' OR entity_type = $2) AND ($3 = '' OR entity_id = $3) ORDER BY seq LIMIT $4", [0, 'user', '', 51], f"SELECT {ACOLS} FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE seq > $1 AND entity_type = $2 ORDER BY seq ASC LIMIT $3) ORDER BY seq ASC", [0, 'user', 51]),
  ('audit: one entity', f"SELECT {ACOLS} FROM audit_log WHERE seq > $1 AND ($2 = '' OR entity_type = $2) AND ($3 = '' OR entity_id = $3) ORDER BY seq LIMIT $4", [0, 'product', P['product'], 51], f"SELECT {ACOLS} FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE seq > $1 AND entity_type = $2 AND entity_id = $3 ORDER BY seq ASC LIMIT $4) ORDER BY seq ASC", [0, 'product', P['product'], 51]),
  ('events: after a seq', f"SELECT {ECOLS} FROM events WHERE seq > $1 AND ($2 = '' OR event_type = $2) ORDER BY seq LIMIT $3", [1000, '', 100], f"SELECT {ECOLS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", [1000, 100]),
  ('events: after a seq, one type', f"SELECT {ECOLS} FROM events WHERE seq > $1 AND ($2 = '' OR event_type = $2) ORDER BY seq LIMIT $3", [1000, 'OrderCreated', 100], f"SELECT {ECOLS} FROM events WHERE seq IN (SELECT seq FROM events WHERE seq > $1 AND event_type = $2 ORDER BY seq ASC LIMIT $3) ORDER BY seq ASC", [1000, 'OrderCreated', 100]),
  ('events: after a seq, a rare type', f"SELECT {ECOLS} FROM events WHERE seq > $1 AND ($2 = '' OR event_type = $2) ORDER BY seq LIMIT $3", [1000, 'UserCreated', 100], f"SELECT {ECOLS} FROM events WHERE seq IN (SELECT seq FROM events WHERE seq > $1 AND event_type = $2 ORDER BY seq ASC LIMIT $3) ORDER BY seq ASC", [1000, 'UserCreated', 100]),
  ('events: newest', f"SELECT {ECOLS} FROM events WHERE ($1 = '' OR event_type = $1) ORDER BY seq DESC LIMIT $2", ['', 20], f"SELECT {ECOLS} FROM events ORDER BY seq DESC LIMIT $1", [20]),
  ('events: newest of a rare type', f"SELECT {ECOLS} FROM events WHERE ($1 = '' OR event_type = $1) ORDER BY seq DESC LIMIT $2", ['UserCreated', 20], f"SELECT {ECOLS} FROM events WHERE seq IN (SELECT seq FROM events WHERE event_type = $1 ORDER BY seq DESC LIMIT $2) ORDER BY seq DESC", ['UserCreated', 20]),
  ('notifications: first page', f"SELECT {NCOLS} FROM notifications WHERE ($1 = '' OR status = $1) AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3", ['', '', 51], f"SELECT {NCOLS} FROM notifications ORDER BY id DESC LIMIT $1", [51]),
  ('notifications: by status', f"SELECT {NCOLS} FROM notifications WHERE ($1 = '' OR status = $1) AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3", ['failed', '', 51], f"SELECT {NCOLS} FROM notifications WHERE status = $1 ORDER BY id DESC LIMIT $2", ['failed', 51]),
  ('notifications: next page', f"SELECT {NCOLS} FROM notifications WHERE ($1 = '' OR status = $1) AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3", ['', P['notif1000'], 51], f"SELECT {NCOLS} FROM notifications WHERE id < $1 ORDER BY id DESC LIMIT $2", [P['notif1000'], 51]),
]

def lite_sql(sql, params):
    sql = re.sub(r'SEARCH\(\$(\d+)\)', r"p.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH $\1)", sql)
    sql = re.sub(r'\$(\d+)', r'?\1', sql)
    out = []
    for v in params:
        if isinstance(v, bool):
            v = int(v)
        out.append(v)
    return sql, out

def lite_params(name, params):
    # the FTS match expression the core builds
    if 'search' in name or 'combined' in name:
        params = list(params)
        words = params[0].split()
        params[0] = ' '.join(f'"{w}"*' for w in words)
    return params

def run_lite(name, sql, params):
    s, p = lite_sql(sql, lite_params(name, params))
    plan = [r[3] for r in lite.execute('EXPLAIN QUERY PLAN ' + s, p).fetchall()]
    times = []
    for _ in range(5):
        t = time.perf_counter(); rows = lite.execute(s, p).fetchall(); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return ' / '.join(plan), times[2], len(rows)

def pg_literal(v):
    if isinstance(v, bool):
        return 'TRUE' if v else 'FALSE'
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"

def pg_params(name, params):
    if 'search' in name or 'combined' in name:
        params = list(params)
        params[0] = ' & '.join(f'{w}:*' for w in params[0].split())
    return params

def run_pg(name, sql, params, mode):
    sql = re.sub(r'SEARCH\(\$(\d+)\)', r"p.search @@ to_tsquery('simple', $\1)", sql)
    params = pg_params(name, params)
    args = ', '.join(pg_literal(v) for v in params)
    script = f"SET plan_cache_mode = {mode};\nPREPARE q AS {sql};\n"
    script += "\\o /dev/null\n" + f"EXECUTE q({args});\n" * 2 + "\\o\n"
    script += f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE q({args});\n"
    out = subprocess.run(['psql', '-X', '-q', '-t', '-A', '-U', 'postgres', '-h', '127.0.0.1', '-d', pgdb, '-v', 'ON_ERROR_STOP=1'],
                         input=script, capture_output=True, text=True)
    if out.returncode:
        return 'ERROR ' + out.stderr.strip()[:300], 0, 0
    text = out.stdout
    j = json.loads(text[text.index('['):])
    plan = j[0]['Plan']
    nodes = []
    def walk(n, depth):
        desc = n['Node Type']
        if 'Index Name' in n:
            desc += f" {n['Index Name']}"
        elif 'Relation Name' in n:
            desc += f" {n['Relation Name']}"
        desc += f" rows={n.get('Actual Rows')}x{n.get('Actual Loops')}"
        if n.get('Rows Removed by Filter'):
            desc += f" removed={n['Rows Removed by Filter']}"
        if 'Sort Method' in n:
            desc += f" ({n['Sort Method']})"
        nodes.append('  ' * depth + desc)
        for c in n.get('Plans', []):
            walk(c, depth + 1)
    walk(plan, 0)
    buffers = plan.get('Shared Hit Blocks', 0) + plan.get('Shared Read Blocks', 0)
    return ' | '.join(nodes) + f' | buffers={buffers}', j[0]['Execution Time'], plan.get('Actual Rows')

for name, old, old_p, new, new_p in Q:
    if only and only not in name:
        continue
    print(f'## {name}')
    for label, sql, params in (('old', old, old_p), ('new', new, new_p)):
        if sql is None:
            if label == 'old':
                print('  (unchanged)')
            label = 'same' if old is None else label
            if sql is None:
                continue
        plan, ms, rows = run_lite(name, sql, params)
        print(f'  SQLite {label}: {ms:.2f} ms, {rows} rows: {plan}')
        for mode in ('force_custom_plan', 'force_generic_plan'):
            plan, ms, rows = run_pg(name, sql, params, mode)
            print(f'  PG {label} {mode[6:]}: {ms:.2f} ms, {rows} rows: {plan}')
    sys.stdout.flush()
