//! `/v1/reports` (additive; SPEC §2.13 "Portfolio / reports").

use crate::json::Json;
use axum::extract::State;
use flexportal_app::reports as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::Params;
use crate::model::reports::{PortfolioQuery, PortfolioReport};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The report operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(portfolio))
}

/// getPortfolioReport: the business unit's portfolio health, asset recovery, payment report and
/// collection status, as `flexportal report portfolio --json` prints it.
#[utoipa::path(
    get, path = "/v1/reports/portfolio", operation_id = "getPortfolioReport", tag = "Reports",
    summary = "Portfolio report",
    description = "Recovery status of every active subscription with the portfolio health score, \
        unrecovered cost and profit, the assets' lifetime recovery, the payment report and the \
        customers' collection status (SPEC 2.13). Additive: not in the official contract.",
    params(PortfolioQuery, TenantHeader),
    responses(
        (status = 200, description = "The report", body = PortfolioReport),
        (status = 400, description = "`asOf` is not a date (`VALIDATION_ERROR`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn portfolio(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<PortfolioReport>, ApiError> {
    let p = uc::portfolio_query(&s.app, &ctx, &q).await?;
    Ok(Json(PortfolioReport::new(&ctx, &p)))
}
