INSERT INTO customer (email) VALUES ('first@example.test');
