-- No query finds orders by the customer's phone: its index only cost every order a page
-- written (the write path's measurements). The blind index column stays, so a lookup by
-- phone can bring an index back with it. Mirrors sqlite/V16__unread_phone_index.sql.
DROP INDEX orders_phone_idx;
