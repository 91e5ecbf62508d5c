//! One SQL text for both backends, for the workspace tables.
//!
//! The run and monitor tables were written twice, once per client library. The workspace
//! (users, sessions, tokens, the audit log, publication) has many small queries, and writing
//! each twice would double the code that must stay in step. So they are written once, with
//! PostgreSQL's `$1` placeholders, against this tiny interface: a transaction that can execute
//! a statement and return rows of plain [`Val`]ues. SQLite receives `$N` rewritten as `?N`
//! (an explicit index, so a placeholder may repeat or come out of order).
//!
//! Rules the shared SQL keeps: integers are `BIGINT` in PostgreSQL (so `i64` binds), texts are
//! `TEXT`, no booleans (0/1 integers), `RETURNING` for generated ids (SQLite ≥ 3.35).

use crate::StoreError;

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(v.clone())
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Int(i64::from(v))
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("row has no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.at(i)? {
            Val::Int(v) => Ok(*v),
            other => Err(StoreError::Corrupt(format!(
                "column {i} is {other:?}, expected an integer"
            ))),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.at(i)? {
            Val::Text(v) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "column {i} is {other:?}, expected text"
            ))),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Val::Bytes(v) => Ok(v.clone()),
            other => Err(StoreError::Corrupt(format!(
                "column {i} is {other:?}, expected bytes"
            ))),
        }
    }
}

/// Which database is behind a [`Tx`]; only for the few statements that must differ (locks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// An open transaction. It commits when the closure given to [`crate::Store::transact`]
/// returns `Ok`, and rolls back otherwise.
pub trait Tx {
    fn dialect(&self) -> Dialect;
    /// Runs a statement; returns the number of rows changed.
    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, StoreError>;
    /// Runs a query; returns all rows.
    fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, args: &[Val]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Exactly one row (e.g. `INSERT … RETURNING id`, `SELECT COUNT(*)`).
    fn query_one(&mut self, sql: &str, args: &[Val]) -> Result<Row, StoreError> {
        self.query_opt(sql, args)?
            .ok_or_else(|| StoreError::Corrupt("a query that returns one row returned none".into()))
    }
}

/// `$1` → `?1` outside string literals, for SQLite.
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_str = false;
    for c in sql.chars() {
        if c == '\'' {
            in_str = !in_str;
        }
        if c == '$' && !in_str {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) mod sqlite_impl {
    use super::*;
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    use rusqlite::{ToSql, Transaction};

    impl ToSql for Val {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(match self {
                Val::Null => ToSqlOutput::Owned(Value::Null),
                Val::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
                Val::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
                Val::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            })
        }
    }

    pub struct SqliteTx<'a, 'c>(pub &'a Transaction<'c>);

    impl Tx for SqliteTx<'_, '_> {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }

        fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
            let mut stmt = self.0.prepare(&sqlite_placeholders(sql))?;
            let n = stmt.execute(rusqlite::params_from_iter(args.iter()))?;
            Ok(n as u64)
        }

        fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
            let mut stmt = self.0.prepare(&sqlite_placeholders(sql))?;
            let cols = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let mut vals = Vec::with_capacity(cols);
                for i in 0..cols {
                    vals.push(match r.get_ref(i)? {
                        ValueRef::Null => Val::Null,
                        ValueRef::Integer(v) => Val::Int(v),
                        ValueRef::Real(v) => Val::Text(v.to_string()),
                        ValueRef::Text(v) => Val::Text(String::from_utf8_lossy(v).into_owned()),
                        ValueRef::Blob(v) => Val::Bytes(v.to_vec()),
                    });
                }
                out.push(Row(vals));
            }
            Ok(out)
        }
    }
}

pub(crate) mod pg_impl {
    use super::*;
    use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
    use postgres::Transaction;
    use std::error::Error;

    impl ToSql for Val {
        fn to_sql(
            &self,
            ty: &Type,
            out: &mut bytes::BytesMut,
        ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
            match self {
                Val::Null => Ok(IsNull::Yes),
                Val::Int(v) => match *ty {
                    Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                    Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                    Type::BOOL => (*v != 0).to_sql(ty, out),
                    _ => v.to_sql(ty, out),
                },
                Val::Text(v) => v.as_str().to_sql(ty, out),
                Val::Bytes(v) => v.as_slice().to_sql(ty, out),
            }
        }

        fn accepts(ty: &Type) -> bool {
            <i64 as ToSql>::accepts(ty)
                || <i32 as ToSql>::accepts(ty)
                || <&str as ToSql>::accepts(ty)
                || <&[u8] as ToSql>::accepts(ty)
        }

        to_sql_checked!();
    }

    pub struct PgTx<'a, 'c>(pub &'a mut Transaction<'c>);

    /// A unique-key violation is another writer's concurrent change, not a server fault.
    fn unique(e: postgres::Error) -> StoreError {
        if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict(
                "a concurrent change took this place first; reload and try again".into(),
            )
        } else {
            StoreError::from(e)
        }
    }

    fn params(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
        args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
    }

    impl Tx for PgTx<'_, '_> {
        fn dialect(&self) -> Dialect {
            Dialect::Postgres
        }

        fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
            self.0.execute(sql, &params(args)).map_err(unique)
        }

        fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
            let rows = self.0.query(sql, &params(args)).map_err(unique)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut vals = Vec::with_capacity(r.len());
                for (i, col) in r.columns().iter().enumerate() {
                    let v = match *col.type_() {
                        Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::Int),
                        Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(|v| Val::Int(v.into())),
                        Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(|v| Val::Int(v.into())),
                        Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(Val::from),
                        Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Val::Bytes),
                        Type::FLOAT8 => r
                            .try_get::<_, Option<f64>>(i)?
                            .map(|v| Val::Text(v.to_string())),
                        _ => r.try_get::<_, Option<String>>(i)?.map(Val::Text),
                    };
                    vals.push(v.unwrap_or(Val::Null));
                }
                out.push(Row(vals));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_literals_only() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c = '$2' AND d = $2"),
            "SELECT a FROM t WHERE b = ?1 AND c = '$2' AND d = ?2"
        );
    }
}
