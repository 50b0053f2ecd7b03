package sqlstore

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"

	"modernc.org/sqlite"
)

// stmtCacheSize is how many prepared statements each SQLite connection keeps. Winnow
// and River together run a few dozen distinct statements on the hot paths; the rest
// (migrations, one-off admin queries) come and go through the least recently used end.
const stmtCacheSize = 256

// sqliteConnector opens SQLite connections that keep their prepared statements.
//
// database/sql prepares a statement for every Query and Exec that is not run through a
// *sql.Stmt, and modernc.org/sqlite finalizes it afterwards, so every call parsed and
// planned its SQL again: a third of the CPU of processing a Lever application on
// SQLite was the SQL parser. The cache sits under database/sql, so River's queries
// (which Winnow cannot prepare) gain as much as the store's own.
type sqliteConnector struct {
	inner driver.Connector
	gate  writeGate // shared by the connections: one writes at a time
}

// newSQLiteConnector returns a connector for dsn whose connections cache statements.
func newSQLiteConnector(dsn string) (driver.Connector, error) {
	inner, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite connector: %w", err)
	}
	return &sqliteConnector{inner: inner, gate: newWriteGate()}, nil
}

// Connect opens a connection with an empty statement cache.
func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteDriverConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks the context methods the statement cache needs", conn)
	}
	return &cachingConn{sqliteDriverConn: inner, gate: c.gate, byQuery: make(map[string]*list.Element), lru: list.New()}, nil
}

// Driver returns modernc.org/sqlite's driver.
func (c *sqliteConnector) Driver() driver.Driver { return c.inner.Driver() }

// sqliteDriverConn is what a modernc.org/sqlite connection implements and the cache
// passes through.
type sqliteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedStmt is one prepared statement of a connection. busy is set while rows read
// from it are open: a statement steps through one result at a time, so the same SQL
// asked for meanwhile (a query inside a loop over its own results) runs uncached.
type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool
}

// cachingConn is a SQLite connection that runs each query through a prepared statement
// it keeps, least recently used first out. database/sql never uses a connection from
// two goroutines at once, so it needs no lock.
type cachingConn struct {
	sqliteDriverConn
	gate    writeGate
	inTx    bool                     // holds the gate, from BeginTx to Commit or Rollback
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently used
}

// statement returns the cached statement of query, preparing it if needed; nil (and
// no error) when the statement is busy, for the caller to run query uncached.
func (c *cachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if el, ok := c.byQuery[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return cs, nil
	}
	st, err := c.sqliteDriverConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		st.Close()
		return nil, nil
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return nil, nil
	}
	cs := &cachedStmt{query: query, stmt: st}
	c.byQuery[query] = c.lru.PushFront(cs)
	c.evict()
	return cs, nil
}

// evict closes the least recently used statements that are not busy while the cache
// holds more than stmtCacheSize.
func (c *cachingConn) evict() {
	for el := c.lru.Back(); el != nil && c.lru.Len() > stmtCacheSize; {
		prev := el.Prev()
		if cs := el.Value.(*cachedStmt); !cs.busy {
			c.lru.Remove(el)
			delete(c.byQuery, cs.query)
			cs.stmt.Close()
		}
		el = prev
	}
}

// ExecContext runs query through its cached statement, inside the write gate when it
// writes outside a transaction.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx || readsOnly(query) {
		return c.execCached(ctx, query, args)
	}
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	defer c.gate.leave()
	return c.execCached(ctx, query, args)
}

// execCached runs query through its cached statement.
func (c *cachingConn) execCached(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteDriverConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// QueryContext runs query through its cached statement; when it writes outside a
// transaction, the rows hold the write gate until they are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.inTx || readsOnly(query) {
		return c.queryCached(ctx, query, args)
	}
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := c.queryCached(ctx, query, args)
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	return &gatedRows{Rows: rows, gate: c.gate, open: true}, nil
}

// BeginTx waits for the write gate, then begins the transaction (BEGIN IMMEDIATE: it
// takes SQLite's write lock at once).
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.enter(ctx); err != nil {
		return nil, err
	}
	tx, err := c.sqliteDriverConn.BeginTx(ctx, opts)
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{Tx: tx, conn: c}, nil
}

// endTx lets the next writer in once the transaction has ended.
func (c *cachingConn) endTx() {
	if c.inTx {
		c.inTx = false
		c.gate.leave()
	}
}

// queryCached runs query through its cached statement, which stays busy until the
// rows are closed.
func (c *cachingConn) queryCached(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteDriverConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, stmt: cs}, nil
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for el := c.lru.Front(); el != nil; el = el.Next() {
		errs = append(errs, el.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	errs = append(errs, c.sqliteDriverConn.Close())
	c.endTx() // closed inside a transaction: the transaction is gone with it
	return errors.Join(errs...)
}

// cachedRows are the rows of a cached statement; closing them frees the statement for
// its next use (modernc.org/sqlite resets it rather than finalizing it).
type cachedRows struct {
	driver.Rows
	stmt *cachedStmt
}

// Close closes the rows and frees their statement.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.stmt.busy = false
	return err
}

// ColumnTypeScanType passes modernc.org/sqlite's column types through, for
// (*sql.Rows).ColumnTypes.
func (r *cachedRows) ColumnTypeScanType(index int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(index)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeDatabaseTypeName passes the declared column type through.
func (r *cachedRows) ColumnTypeDatabaseTypeName(index int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}
