//! The SQL rules engine (cargo feature `sql-rules`): DataFusion's expression machinery —
//! sqlparser → logical `Expr` → type coercion → physical expression — evaluated on whole record
//! batches. Only these DataFusion crates are linked into the functions, not the query engine.

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

use super::RuleError;

/// A rule compiled against one schema.
pub(super) type Expr = Arc<dyn PhysicalExpr>;

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

/// Compiles `sql` against the table's Arrow schema.
pub(super) fn compile(sql: &str, schema: &SchemaRef) -> Result<Expr, RuleError> {
    let ast = Parser::new(&GenericDialect {})
        .try_with_sql(sql)
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
    Ok(physical)
}

/// Evaluates a compiled rule on `batch`: `true` where the row passes (a null result passes).
pub(super) fn evaluate(expr: &Expr, batch: &RecordBatch) -> Result<BooleanArray, RuleError> {
    let value = expr
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
