//! SQL row rules: boolean SQL expressions (`amount >= 0 AND quantity > 0`) compiled once per
//! table schema with DataFusion's expression machinery — sqlparser → logical `Expr` → type
//! coercion → physical expression — and evaluated on whole record batches. Only these DataFusion
//! crates are linked into the functions, not the query engine.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::{DataType, FieldRef, SchemaRef};
use datafusion_common::config::ConfigOptions;
use datafusion_common::{DFSchema, TableReference};
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::planner::ContextProvider;
use datafusion_expr::simplify::SimplifyContext;
use datafusion_expr::{AggregateUDF, ScalarUDF, TableSource, WindowUDF};
use datafusion_optimizer::simplify_expressions::ExprSimplifier;
use datafusion_physical_expr::{create_physical_expr, PhysicalExpr};
use datafusion_sql::planner::{PlannerContext, SqlToRel};
use datafusion_sql::sqlparser::dialect::GenericDialect;
use datafusion_sql::sqlparser::parser::Parser;

use crate::spec::RuleSpec;

/// A compiled rule.
#[derive(Debug)]
pub struct CompiledRule {
    /// Rule name.
    pub name: String,
    /// The SQL text.
    pub sql: String,
    expr: Arc<dyn PhysicalExpr>,
}

struct Functions {
    udfs: HashMap<String, Arc<ScalarUDF>>,
    options: ConfigOptions,
}

impl ContextProvider for Functions {
    fn get_table_source(
        &self,
        name: TableReference,
    ) -> datafusion_common::Result<Arc<dyn TableSource>> {
        datafusion_common::plan_err!("rules cannot read tables (`{name}`)")
    }
    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        self.udfs.get(&name.to_ascii_lowercase()).cloned()
    }
    fn get_aggregate_meta(&self, _name: &str) -> Option<Arc<AggregateUDF>> {
        None
    }
    fn get_window_meta(&self, _name: &str) -> Option<Arc<WindowUDF>> {
        None
    }
    fn get_variable_type(&self, _names: &[String]) -> Option<DataType> {
        None
    }
    fn options(&self) -> &ConfigOptions {
        &self.options
    }
    fn udf_names(&self) -> Vec<String> {
        self.udfs.keys().cloned().collect()
    }
    fn udaf_names(&self) -> Vec<String> {
        vec![]
    }
    fn udwf_names(&self) -> Vec<String> {
        vec![]
    }
}

/// Why a SQL rule does not compile (the caller names the rule).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// Not valid SQL.
    #[error("{0}")]
    Parse(#[from] datafusion_sql::sqlparser::parser::ParserError),
    /// Valid SQL that does not plan against the table schema (unknown column, bad types).
    #[error("{0}")]
    Plan(#[from] datafusion_common::DataFusionError),
    /// Not a predicate.
    #[error("must be a boolean expression, not {0}")]
    NotBoolean(DataType),
}

/// Compiles `rule` against the table's Arrow schema.
pub fn compile(rule: &RuleSpec, schema: &SchemaRef) -> Result<CompiledRule, RuleError> {
    let ast = Parser::new(&GenericDialect {})
        .try_with_sql(&rule.sql)
        .and_then(|mut p| p.parse_expr())?;
    let mut udfs = HashMap::new();
    for f in datafusion_functions::all_default_functions() {
        udfs.insert(f.name().to_string(), f.clone());
        for alias in f.aliases() {
            udfs.insert(alias.clone(), f.clone());
        }
    }
    let provider = Functions {
        udfs,
        options: ConfigOptions::default(),
    };
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let expr = SqlToRel::new(&provider).sql_to_expr(ast, &df_schema, &mut PlannerContext::new())?;
    let df_schema = Arc::new(df_schema);
    let simplifier = ExprSimplifier::new(SimplifyContext::default().with_schema(df_schema.clone()));
    let expr = simplifier.coerce(expr, &df_schema)?;
    let physical = create_physical_expr(&expr, &df_schema, &ExecutionProps::new())?;
    let field: FieldRef = physical.return_field(schema.as_ref())?;
    if field.data_type() != &DataType::Boolean {
        return Err(RuleError::NotBoolean(field.data_type().clone()));
    }
    Ok(CompiledRule {
        name: rule.name.clone(),
        sql: rule.sql.clone(),
        expr: physical,
    })
}

impl CompiledRule {
    /// Evaluates the rule: `true` where the row passes. A null result (e.g. `amount >= 0` on a
    /// null amount) passes: nullability is the column contract's job.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray, RuleError> {
        let value = self
            .expr
            .evaluate(batch)
            .and_then(|v| v.into_array(batch.num_rows()))?;
        let b = value
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| RuleError::NotBoolean(value.data_type().clone()))?;
        Ok(BooleanArray::from_iter(
            (0..b.len()).map(|i| Some(b.is_null(i) || b.value(i))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Decimal128Array, Int32Array, StringArray};
    use arrow_schema::{Field, Schema};

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
