CREATE TABLE customer (id serial PRIMARY KEY, email text NOT NULL);
