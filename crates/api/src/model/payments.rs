//! Payments on the wire (SPEC §2.7; the official payment shape plus the additive `billingDate`,
//! and the additive `limit` of listPayments).

use flexportal_app::{AppError, TenantContext};
use flexportal_domain::status::PaymentStatus;
use flexportal_store::page::Page;
use flexportal_store::payment_lines::LineRecord;
use flexportal_store::payments::PaymentRecord;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{Decimal, Instant, SortDirection, stored_enum};

/// A payment: one amount a customer owes on a date (a monthly charge, a consolidated invoice or
/// a one-off charge).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// `pay_…`, the payment id.
    pub payment_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// Customer.
    pub customer_id: String,
    /// Net amount, major units.
    pub subtotal: Decimal,
    /// Tax, major units.
    pub tax_amount: Decimal,
    /// VAT rate in percent, without trailing zeros (`21`, `5.5`).
    pub tax_rate: Decimal,
    /// `subtotal + taxAmount`, major units.
    pub total: Decimal,
    /// ISO 4217 code of the business unit's currency.
    pub currency: String,
    /// Equals `total`.
    pub amount: Decimal,
    /// `individual` (one subscription) or `consolidated` (a billing group).
    pub payment_type: PaymentType,
    /// Subscription of an individual payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rental_id: Option<String>,
    /// Billing group of a consolidated payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub billing_group_id: Option<String>,
    /// `YYYY-MM` of the billing date.
    #[schema(pattern = r"^\d{4}-\d{2}$")]
    pub billing_period: String,
    /// Status (SPEC §2.7 transitions).
    pub status: PaymentStatus,
    /// Who collects it (`manual` unless a provider does).
    pub provider: PaymentProvider,
    /// Provider transaction id (set only by a payment provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub transaction_id: Option<String>,
    /// Raw provider answer (set only by a payment provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Object)]
    pub provider_response: Option<Map<String, Value>>,
    /// Marked paid by an operator (markPaymentPaid).
    pub manually_marked: bool,
    /// Bank reference, cheque number… given to markPaymentPaid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub payment_reference: Option<String>,
    /// `userId` of the caller that marked it paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub marked_by: Option<String>,
    /// Provider capture attempts (0: no provider collects in v1).
    pub capture_attempts: u32,
    /// The last provider capture failure (set only by a payment provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_capture_error: Option<CaptureError>,
    /// The single line of an individual payment (SPEC §2.7); absent without a subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line_items: Option<Vec<PaymentLineItem>>,
    /// Whether a late fee was added (by the late-fee job).
    pub late_fee_applied: bool,
    /// The late fee added, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub late_fee_amount: Option<Decimal>,
    /// `total` before the late fee, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub original_amount: Option<Decimal>,
    /// Unique per business unit among payments that are not cancelled (SPEC §2.7 formats).
    #[schema(min_length = 1)]
    pub idempotency_key: String,
    /// Free text (a cancellation stores `Cancelled: <reason>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// `YYYY-MM-DD`, the billing date (additive).
    #[schema(format = Date)]
    pub billing_date: String,
    /// `YYYY-MM-DD`, the billing date plus the payment terms (SPEC §2.6.3).
    #[schema(format = Date)]
    pub due_date: String,
    /// When it was paid; `null` until then.
    #[schema(required = true)]
    pub paid_at: Option<Instant>,
    /// Last provider capture attempt; always `null` in v1.
    #[schema(required = true)]
    pub last_capture_attempt: Option<Instant>,
    /// Next provider retry; always `null` in v1.
    #[schema(required = true)]
    pub next_retry_at: Option<Instant>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
}

/// A line of a payment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentLineItem {
    /// Subscription charged.
    #[schema(min_length = 1)]
    pub rental_id: String,
    /// `"<productName> <YYYY-MM>"`, `Buyout` or `Early return fee`.
    pub description: String,
    /// Net amount of the line, major units.
    pub amount: Decimal,
    /// Tax of the line, major units.
    pub tax_amount: Decimal,
}

/// A provider capture failure.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaptureError {
    /// Provider error code.
    pub code: String,
    /// Provider message.
    pub message: String,
    /// Card decline code.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub decline_code: Option<String>,
}

/// The kind of a payment's links (SPEC §2.7 kinds).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentType {
    /// One subscription's charge (monthly or one-off).
    Individual,
    /// A billing group's monthly invoice.
    Consolidated,
}

impl PaymentType {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "individual" => Some(PaymentType::Individual),
            "consolidated" => Some(PaymentType::Consolidated),
            _ => None,
        }
    }
}

/// Who collects a payment (SPEC §2.7).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProvider {
    /// Stripe integration.
    Stripe,
    /// Reserved.
    Adyen,
    /// Reserved.
    Paypal,
    /// Collected by the operator and recorded with markPaymentPaid (default).
    Manual,
}

impl PaymentProvider {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "stripe" => PaymentProvider::Stripe,
            "adyen" => PaymentProvider::Adyen,
            "paypal" => PaymentProvider::Paypal,
            "manual" => PaymentProvider::Manual,
            _ => return None,
        })
    }
}

impl Payment {
    /// Renders a stored payment. Errors: 500 when its stored status, type or provider is not a
    /// known value.
    /// `lines` may hold lines of other payments too: those of `p` (a consolidated payment)
    /// become its line items, net amounts (SPEC §2.7, §2.8).
    pub fn new(
        ctx: &TenantContext,
        p: &PaymentRecord,
        lines: &[LineRecord],
    ) -> Result<Self, AppError> {
        let exp = ctx.exponent();
        let money = |minor| Decimal::money(minor, exp);
        Ok(Payment {
            payment_id: p.payment_id.clone(),
            tenant_id: p.tenant_id.clone(),
            customer_id: p.customer_id.clone(),
            subtotal: money(p.subtotal),
            tax_amount: money(p.tax_amount),
            tax_rate: Decimal::trimmed(p.tax_rate_bp, 2),
            total: money(p.total),
            currency: p.currency.clone(),
            amount: money(p.total),
            payment_type: stored_enum(&p.payment_type, PaymentType::parse)?,
            rental_id: p.rental_id.clone(),
            billing_group_id: p.billing_group_id.clone(),
            billing_period: p.billing_period.clone(),
            status: stored_enum(&p.status, PaymentStatus::parse)?,
            provider: stored_enum(&p.provider, PaymentProvider::parse)?,
            transaction_id: None,
            provider_response: None,
            manually_marked: p.manually_marked,
            payment_reference: p.payment_reference.clone(),
            marked_by: p.marked_by.clone(),
            capture_attempts: 0,
            last_capture_error: None,
            line_items: match &p.rental_id {
                Some(r) => Some(vec![PaymentLineItem {
                    rental_id: r.clone(),
                    description: p.description.clone(),
                    amount: money(p.subtotal),
                    tax_amount: money(p.tax_amount),
                }]),
                None if p.payment_type == "consolidated" => Some(
                    lines
                        .iter()
                        .filter(|l| l.payment_id == p.payment_id)
                        .map(|l| PaymentLineItem {
                            rental_id: l.rental_id.clone(),
                            description: l.description.clone(),
                            amount: money(l.subtotal),
                            tax_amount: money(l.tax_amount),
                        })
                        .collect(),
                ),
                None => None,
            },
            late_fee_applied: p.late_fee_applied,
            late_fee_amount: Decimal::money_opt(p.late_fee_amount, exp),
            original_amount: Decimal::money_opt(p.original_amount, exp),
            idempotency_key: p.idempotency_key.clone(),
            notes: p.notes.clone(),
            billing_date: p.billing_date.clone(),
            due_date: p.due_date.clone(),
            paid_at: Instant::opt(p.paid_at),
            last_capture_attempt: None,
            next_retry_at: None,
            created_at: Instant(p.created_at),
            updated_at: Instant(p.updated_at),
        })
    }
}

/// listPayments: `{success, payments, count, limit, hasMore, nextCursor}` (SPEC §1.8, §2.7).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentList {
    /// Always `true`.
    pub success: bool,
    /// The page's payments.
    pub payments: Vec<Payment>,
    /// Items on this page.
    pub count: usize,
    /// The page size asked for (default 50, at most 100; additive).
    pub limit: u64,
    /// Whether another page follows.
    pub has_more: bool,
    /// The cursor to pass as `startAfter` for the next page (a `paymentId`); `null` on the last
    /// page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl PaymentList {
    /// The envelope of a store page. Errors: as [`Payment::new`].
    pub fn from_page(
        ctx: &TenantContext,
        page: &Page<PaymentRecord>,
        lines: &[LineRecord],
        limit: u64,
    ) -> Result<Self, AppError> {
        let payments = page
            .items
            .iter()
            .map(|p| Payment::new(ctx, p, lines))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PaymentList {
            success: true,
            count: payments.len(),
            payments,
            limit,
            has_more: page.has_more,
            next_cursor: if page.has_more {
                page.items.last().map(|p| p.payment_id.clone())
            } else {
                None
            },
        })
    }
}

/// getPayment: `{success, payment}` (wrapped, unlike most single-item reads).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentFound {
    /// Always `true`.
    pub success: bool,
    /// The payment.
    pub payment: Payment,
}

/// markPaymentPaid and cancelPayment: `{success, message, payment}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSaved {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The payment as stored.
    pub payment: Payment,
}

/// The body of markPaymentPaid (all optional, SPEC §2.7).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct MarkPaymentPaidBody {
    /// Bank reference, cheque number…; replaces the stored one when sent.
    pub payment_reference: Option<String>,
    /// Alias of `paymentReference`.
    pub reference: Option<String>,
    /// Free text, e.g. the payment method; replaces the stored notes when sent.
    pub notes: Option<String>,
    /// When it was paid (ISO date-time, or a date meaning midnight UTC); default now; at most one
    /// day in the future.
    #[schema(format = DateTime)]
    pub paid_at: Option<String>,
}

/// The body of cancelPayment.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct CancelPaymentBody {
    /// Why; stored in `notes` as `Cancelled: <reason>`. At most 1 000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Sort fields of listPayments.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum PaymentSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// Due date.
    DueDate,
    /// Total.
    Total,
    /// Status.
    Status,
}

/// Query parameters of listPayments (SPEC §1.8, §1.9, §2.7). Empty values are absent; due-date
/// bounds are inclusive (`YYYY-MM-DD`, or an ISO date-time whose date part is used).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct PaymentListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a `paymentId`).
    pub start_after: Option<String>,
    /// Exact status.
    #[param(inline)]
    pub status: Option<PaymentStatus>,
    /// Customer.
    pub customer_id: Option<String>,
    /// Subscription.
    pub rental_id: Option<String>,
    /// Billing group.
    pub billing_group_id: Option<String>,
    /// Due date on or after.
    #[param(format = Date)]
    pub due_date_from: Option<String>,
    /// Due date on or before.
    #[param(format = Date)]
    pub due_date_to: Option<String>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<PaymentSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}
