//! SQL row rules: boolean SQL expressions (`amount >= 0 AND quantity > 0`) compiled once per
//! table schema and evaluated on whole record batches. The engine (`engine.rs`, DataFusion's
//! parser, planner and physical expressions; about a fifth of a function's code) is the cargo
//! feature `sql-rules`, on by default: a build without it (`make package SQL_RULES=no`, for a
//! deployment whose specs have no rules) refuses every rule when the specs load, at start-up.

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::{DataType, SchemaRef};

use crate::spec::RuleSpec;

#[cfg(feature = "sql-rules")]
mod engine;

/// A compiled rule.
#[derive(Debug)]
pub struct CompiledRule {
    /// Rule name.
    pub name: String,
    /// The SQL text.
    pub sql: String,
    #[cfg(feature = "sql-rules")]
    expr: engine::Expr,
    /// Without the engine no rule compiles, so none exists.
    #[cfg(not(feature = "sql-rules"))]
    never: std::convert::Infallible,
}

/// Why a SQL rule does not compile (the caller names the rule).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// Not valid SQL.
    #[cfg(feature = "sql-rules")]
    #[error("{0}")]
    Parse(#[from] datafusion_sql::sqlparser::parser::ParserError),
    /// Valid SQL that does not plan against the table schema (unknown column, bad types).
    #[cfg(feature = "sql-rules")]
    #[error("{0}")]
    Plan(#[from] datafusion_common::DataFusionError),
    /// Not a predicate.
    #[error("must be a boolean expression, not {0}")]
    NotBoolean(DataType),
    /// This build left the rules engine out.
    #[error("this build has no SQL rules engine: build the functions with the cargo feature `sql-rules` (the default; `make package` without `SQL_RULES=no`) or remove the rule from the spec")]
    EngineLeftOut,
}

/// Compiles `rule` against the table's Arrow schema.
pub fn compile(rule: &RuleSpec, schema: &SchemaRef) -> Result<CompiledRule, RuleError> {
    #[cfg(feature = "sql-rules")]
    return Ok(CompiledRule {
        name: rule.name.clone(),
        sql: rule.sql.clone(),
        expr: engine::compile(&rule.sql, schema)?,
    });
    #[cfg(not(feature = "sql-rules"))]
    {
        let _ = (rule, schema);
        Err(RuleError::EngineLeftOut)
    }
}

impl CompiledRule {
    /// Evaluates the rule: `true` where the row passes. A null result (e.g. `amount >= 0` on a
    /// null amount) passes: nullability is the column contract's job.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray, RuleError> {
        #[cfg(feature = "sql-rules")]
        return engine::evaluate(&self.expr, batch);
        #[cfg(not(feature = "sql-rules"))]
        {
            let _ = batch;
            match self.never {}
        }
    }
}

#[cfg(all(test, feature = "sql-rules"))]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Decimal128Array, Int32Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("amount", DataType::Decimal128(10, 2), true),
            Field::new("quantity", DataType::Int32, true),
            Field::new("country", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(
                    Decimal128Array::from(vec![Some(150), Some(-1), None, Some(5)])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
                Arc::new(Int32Array::from(vec![1, 1, 1, 0])),
                Arc::new(StringArray::from(vec!["de", "DE", "FR", "FR"])),
            ],
        )
        .unwrap()
    }

    fn rule(sql: &str) -> RuleSpec {
        RuleSpec {
            name: "r".into(),
            sql: sql.into(),
        }
    }

    #[test]
    fn evaluates_coerced_sql_with_functions_on_batches() {
        let b = batch();
        let r = compile(
            &rule("amount >= 0 AND quantity > 0 AND upper(country) IN ('DE', 'FR')"),
            &b.schema(),
        )
        .unwrap();
        let passed: Vec<bool> = r.evaluate(&b).unwrap().iter().map(|v| v.unwrap()).collect();
        assert_eq!(passed, vec![true, false, true, false]);
    }

    #[test]
    fn rejects_unknown_columns_and_non_boolean_rules() {
        let b = batch();
        let unknown = compile(&rule("nope > 1"), &b.schema()).unwrap_err();
        assert!(
            matches!(&unknown, RuleError::Plan(_)) && unknown.to_string().contains("nope"),
            "{unknown}"
        );
        assert!(matches!(
            compile(&rule("quantity + 1"), &b.schema()),
            Err(RuleError::NotBoolean(DataType::Int64))
        ));
        assert!(matches!(
            compile(&rule("quantity >"), &b.schema()),
            Err(RuleError::Parse(_))
        ));
    }
}

#[cfg(all(test, not(feature = "sql-rules")))]
mod without_engine_tests {
    use std::sync::Arc;

    use arrow_schema::{Field, Schema};

    use super::*;

    #[test]
    fn a_rule_the_build_left_out_is_refused_naming_the_feature() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, true)]));
        let rule = RuleSpec {
            name: "positive".into(),
            sql: "n > 0".into(),
        };
        let err = compile(&rule, &schema).unwrap_err();
        assert!(matches!(err, RuleError::EngineLeftOut), "{err}");
        assert!(err.to_string().contains("`sql-rules`"), "{err}");
        // At spec load (start-up), naming the spec file and the rule.
        let spec = "name = \"t\"\nprefixes = [\"t/\"]\n[[columns]]\nname = \"n\"\ntype = \"int\"\n[[contract.rules]]\nname = \"positive\"\nsql = \"n > 0\"\n";
        let err = crate::router::load_spec(spec, "tables/t.toml", "floe")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tables/t.toml")
                && err.contains("positive")
                && err.contains("`sql-rules`"),
            "{err}"
        );
    }
}
