//! Payments (SPEC §2.7): lists, reads, mark-paid (with its cost-recovery effects) and cancel.

use crate::AppError;
use flexportal_domain::assignment::asset_on;
use flexportal_domain::status::PaymentStatus;
use flexportal_domain::time::parse_date_input;
use flexportal_store::Conn;
use flexportal_store::customers::{self, CounterDelta};
use flexportal_store::page::Page;
use flexportal_store::payments::{self, PaymentFilter, PaymentRecord, PaymentSort};
use flexportal_store::subscriptions;
use flexportal_store::{assets, assignments, payment_lines};
use serde_json::Value;

use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, body_object};
use crate::list::{self, Query};
use crate::{App, AppResult, TenantContext};

/// A payment and, when it is consolidated, its lines (SPEC §2.8), read together.
pub type WithLines = (PaymentRecord, Vec<payment_lines::LineRecord>);

/// getPayment. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, id: &str) -> AppResult<PaymentRecord> {
    get_in(&mut app.db.read().await?, ctx, id).await
}

/// getPayment on `c`. Errors: 404 `NOT_FOUND`.
async fn get_in(c: &mut Conn, ctx: &TenantContext, id: &str) -> AppResult<PaymentRecord> {
    payments::get(c, &ctx.tenant_id, id, false)
        .await?
        .ok_or_else(|| AppError::not_found("Payment"))
}

/// getPayment with the lines of a consolidated payment. Both are read in one snapshot of the
/// store, so a consolidation committing meanwhile cannot show a total its lines do not add up
/// to; a payment that is not consolidated takes one read. Errors: 404 `NOT_FOUND`.
pub async fn get_with_lines(app: &App, ctx: &TenantContext, id: &str) -> AppResult<WithLines> {
    let p = get(app, ctx, id).await?;
    if p.payment_type != "consolidated" {
        return Ok((p, Vec::new()));
    }
    let mut c = app.db.read_snapshot().await?;
    let p = get_in(&mut c, ctx, id).await?;
    let found = with_lines(&mut c, ctx, p).await?;
    c.commit().await?;
    Ok(found)
}

const STATUSES: [&str; 5] = ["pending", "processing", "paid", "failed", "cancelled"];

/// listPayments (SPEC §2.7): filters `status`, `customerId`, `rentalId`, `billingGroupId`,
/// `dueDateFrom`/`dueDateTo`; sorts `createdAt`, `dueDate`, `total`, `status`. Returns the page,
/// its limit, and the lines of its consolidated payments; a page with consolidated payments is
/// read with their lines in one snapshot of the store (see [`get_with_lines`]). Errors: 400
/// `VALIDATION_ERROR` naming the bad parameter or cursor.
pub async fn list(
    app: &App,
    ctx: &TenantContext,
    q: &Query,
) -> AppResult<(Page<PaymentRecord>, u64, Vec<payment_lines::LineRecord>)> {
    let params = list::parse(
        q,
        50,
        100,
        PaymentSort::parse,
        "createdAt, dueDate, total, status",
    )?;
    let filter = PaymentFilter {
        status: list::enum_filter(
            q,
            "status",
            |s| STATUSES.contains(&s).then(|| s.to_string()),
            &STATUSES.join(", "),
        )?,
        customer_id: list::text_filter(q, "customerId"),
        rental_id: list::text_filter(q, "rentalId"),
        billing_group_id: list::text_filter(q, "billingGroupId"),
        due_date_from: list::date_filter(q, "dueDateFrom")?,
        due_date_to: list::date_filter(q, "dueDateTo")?,
    };
    let page = {
        let mut c = app.db.read().await?;
        page_in(&mut c, ctx, &params, &filter).await?
    };
    if !page.items.iter().any(|p| p.payment_type == "consolidated") {
        return Ok((page, params.limit, Vec::new()));
    }
    let mut c = app.db.read_snapshot().await?;
    let page = page_in(&mut c, ctx, &params, &filter).await?;
    let lines = lines_in(&mut c, ctx, &page.items).await?;
    c.commit().await?;
    Ok((page, params.limit, lines))
}

/// One page of listPayments on `c`.
async fn page_in(
    c: &mut Conn,
    ctx: &TenantContext,
    params: &list::ListParams<PaymentSort>,
    filter: &PaymentFilter,
) -> AppResult<Page<PaymentRecord>> {
    let conn = &mut *c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        payments::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    Ok(payments::list(
        c,
        &ctx.tenant_id,
        filter,
        params.sort,
        params.dir,
        after,
        params.limit,
    )
    .await?)
}

/// The lines of the consolidated payments among `payments`, read on `c` (one query; none when
/// there are none), for rendering their line items.
pub async fn lines_in(
    c: &mut Conn,
    ctx: &TenantContext,
    payments: &[PaymentRecord],
) -> AppResult<Vec<payment_lines::LineRecord>> {
    let ids: Vec<String> = payments
        .iter()
        .filter(|p| p.payment_type == "consolidated")
        .map(|p| p.payment_id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(payment_lines::of_payments(c, &ctx.tenant_id, &ids).await?)
}

/// `p` with the lines of a consolidated payment, read on `c`.
async fn with_lines(c: &mut Conn, ctx: &TenantContext, p: PaymentRecord) -> AppResult<WithLines> {
    let lines = lines_in(c, ctx, std::slice::from_ref(&p)).await?;
    Ok((p, lines))
}

/// markPaymentPaid (SPEC §2.7): optional `paymentReference` (alias `reference`), `notes`,
/// `paidAt` (not more than one day ahead). Effects: `paid`, and the net amount (`subtotal`)
/// added to the subscription's, the customer's and the asset's collected totals. Returns the
/// payment with the lines of a consolidated one, read in its transaction. Errors: 404
/// `NOT_FOUND`, 400 `VALIDATION_ERROR`, 400 `ALREADY_PAID`, 400 `PAYMENT_CANCELLED`.
pub async fn mark_paid(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<WithLines> {
    crate::transact!(app, |tx| async {
        let p = mark_paid_in(tx, ctx, id, body, app.now()).await?;
        with_lines(tx, ctx, p).await
    })
}

/// markPaymentPaid in an open transaction, the payment locked (one of two concurrent marks wins,
/// the other answers `ALREADY_PAID`). Errors: as [`mark_paid`].
pub async fn mark_paid_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<PaymentRecord> {
    let mut p = payments::get(tx, &ctx.tenant_id, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Payment"))?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let reference_key = if f.has("paymentReference") {
        "paymentReference"
    } else {
        "reference"
    };
    let reference = f.opt_text(reference_key, MAX_SHORT);
    let notes = f.opt_text("notes", MAX_LONG);
    let paid_at = match f.raw("paidAt") {
        None => now,
        Some(Value::String(s)) => match parse_paid_at(s) {
            Some(ms) if ms <= now + 86_400_000 => ms,
            Some(_) => {
                f.fail(
                    "paidAt",
                    "too_big",
                    "paidAt cannot be more than one day in the future",
                );
                now
            }
            None => {
                f.fail("paidAt", "invalid_string", "Expected an ISO 8601 date-time");
                now
            }
        },
        Some(_) => {
            f.fail(
                "paidAt",
                "invalid_type",
                "Expected an ISO 8601 date-time string",
            );
            now
        }
    };
    input::check(errors)?;
    let next = payment_status(&p)?.mark_paid().map_err(|code| {
        let message = match code {
            "ALREADY_PAID" => "The payment is already paid",
            _ => "The payment is cancelled",
        };
        AppError::bad_request(code, message)
    })?;
    p.status = next.as_str().into();
    p.paid_at = Some(paid_at);
    p.manually_marked = true;
    p.marked_by = Some(ctx.actor.user_id.clone());
    if p.provider.is_empty() {
        p.provider = "manual".into();
    }
    if reference.is_some() {
        p.payment_reference = reference;
    }
    if notes.is_some() {
        p.notes = notes;
    }
    p.updated_at = now;
    payments::update(tx, &p).await?;
    if let Some(rental_id) = &p.rental_id {
        credit(tx, ctx, rental_id, &p.billing_date, p.subtotal, now).await?;
    } else if p.payment_type == "consolidated" {
        // Each line credits its member with the line's net amount (SPEC §2.7).
        let lines =
            payment_lines::of_payments(tx, &ctx.tenant_id, std::slice::from_ref(&p.payment_id))
                .await?;
        for l in &lines {
            credit(tx, ctx, &l.rental_id, &l.billing_date, l.subtotal, now).await?;
        }
    }
    let delta = CounterDelta {
        collected: p.subtotal,
        ..Default::default()
    };
    customers::add_counters(tx, &ctx.tenant_id, &p.customer_id, delta, now).await?;
    crate::events::payment_succeeded(tx, ctx, &p, now);
    Ok(p)
}

/// Credits a paid net amount (minor units) to a subscription and to the asset it held on the
/// charge's billing date (SPEC §2.7 "Effects of a payment becoming paid").
async fn credit(
    tx: &mut Conn,
    ctx: &TenantContext,
    rental_id: &str,
    billing_date: &str,
    net: i64,
    now: i64,
) -> AppResult<()> {
    subscriptions::add_collected(tx, &ctx.tenant_id, rental_id, net, now).await?;
    let held = assignments::for_rental(tx, &ctx.tenant_id, rental_id).await?;
    let on: jiff::civil::Date = billing_date
        .parse()
        .map_err(|_| AppError::corrupt(format!("billing date {billing_date:?}")))?;
    if let Some(serial) = asset_on(&held, on) {
        assets::add_collected(tx, &ctx.tenant_id, serial, net, now).await?;
    }
    Ok(())
}

/// The stored status of a payment. Errors: 500 when it is not a known status.
fn payment_status(p: &PaymentRecord) -> AppResult<PaymentStatus> {
    PaymentStatus::parse(&p.status)
        .ok_or_else(|| AppError::corrupt(format!("payment status {:?}", p.status)))
}

/// A `paidAt` value: an ISO 8601 date-time (or a date, meaning midnight UTC), as epoch ms.
fn parse_paid_at(s: &str) -> Option<i64> {
    if let Ok(ts) = s.trim().parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let d = parse_date_input(s)?;
    if s.trim().len() != 10 {
        return None;
    }
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// cancelPayment (SPEC §2.7): `{reason}` required. Returns the payment with the lines of a
/// consolidated one, read in its transaction. Errors: 404 `NOT_FOUND`, 400 `VALIDATION_ERROR`,
/// 400 `ALREADY_PAID`, `ALREADY_CANCELLED`, `PAYMENT_PROCESSING`.
pub async fn cancel(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<WithLines> {
    crate::transact!(app, |tx| async {
        let p = cancel_in(tx, ctx, id, body, app.now()).await?;
        with_lines(tx, ctx, p).await
    })
}

/// cancelPayment in an open transaction, the payment locked. Errors: as [`cancel`].
pub async fn cancel_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<PaymentRecord> {
    let mut p = payments::get(tx, &ctx.tenant_id, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Payment"))?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let reason = Fields::new(obj, "", &mut errors).req_text("reason", 1_000);
    input::check(errors)?;
    let next = payment_status(&p)?.cancel().map_err(|code| {
        let message = match code {
            "ALREADY_PAID" => "A paid payment cannot be cancelled",
            "ALREADY_CANCELLED" => "The payment is already cancelled",
            _ => "The payment is being processed",
        };
        AppError::bad_request(code, message)
    })?;
    p.status = next.as_str().into();
    let reason = reason.unwrap_or_default();
    p.notes = Some(format!("Cancelled: {reason}"));
    p.updated_at = now;
    payments::update(tx, &p).await?;
    crate::events::payment_cancelled(tx, ctx, &p, &reason, now);
    Ok(p)
}
