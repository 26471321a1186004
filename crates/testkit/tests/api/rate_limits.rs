//! Rate limits per API key (SPEC §1.14): the unit's limit per rolling minute, 429
//! `RATE_LIMITED` with an honest `Retry-After`, and the `X-RateLimit-*` headers.

use axum::body::Body;
use axum::http::Request;
use flexportal_testkit::{TestApp, TestTenant, both_engines};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn get(app: &TestApp, t: &TestTenant) -> (u16, axum::http::HeaderMap, Value) {
    let req = Request::builder()
        .uri("/v1/assets?limit=1")
        .header("authorization", format!("Bearer {}", t.key))
        .header("tenant-id", &t.tenant_id)
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status.as_u16(),
        parts.headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn num(h: &axum::http::HeaderMap, name: &str) -> i64 {
    h[name].to_str().unwrap().parse().unwrap()
}

both_engines!(
    ten_a_minute_means_ten_then_an_honest_wait,
    |app: TestApp| async move {
        app.set_settings(&app.tenant, json!({"api": {"rateLimitPerMinute": 10}}))
            .await;
        let t = app.tenant.clone();
        for i in 0..10 {
            let (s, h, _) = get(&app, &t).await;
            assert_eq!(s, 200, "request {}", i + 1);
            assert_eq!(num(&h, "x-ratelimit-limit"), 10);
            assert_eq!(num(&h, "x-ratelimit-remaining"), 9 - i);
            assert!(num(&h, "x-ratelimit-reset") * 1000 >= app.app().now());
        }
        let (s, h, b) = get(&app, &t).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (429, Some("RATE_LIMITED"))
        );
        let wait = num(&h, "retry-after");
        assert_eq!(wait, 6, "one request per 6 s comes back");
        assert_eq!(num(&h, "x-ratelimit-remaining"), 0);
        // Not a moment before Retry-After…
        app.clock.advance(wait * 1000 - 1);
        assert_eq!(get(&app, &t).await.0, 429);
        // …and then it is accepted.
        app.clock.advance(1);
        assert_eq!(get(&app, &t).await.0, 200);
        assert_eq!(get(&app, &t).await.0, 429);
        // Another key of the unit has its own allowance; another unit is unlimited by default
        // (under the abuse ceiling).
        let other = app.new_tenant("EUR").await;
        let (s, h, _) = get(&app, &other).await;
        assert_eq!(s, 200);
        assert_eq!(num(&h, "x-ratelimit-limit"), 6000);
        // Turning the limit off lifts it at once.
        app.set_settings(
            &app.tenant,
            json!({"api": {"rateLimitPerMinute": null, "abuseCeilingPerMinute": null}}),
        )
        .await;
        let (s, h, _) = get(&app, &t).await;
        assert_eq!(s, 200);
        assert!(h.get("x-ratelimit-limit").is_none());
    }
);

both_engines!(
    limits_outside_their_range_are_refused,
    |app: TestApp| async move {
        for bad in [
            json!({"api": {"rateLimitPerMinute": 0}}),
            json!({"api": {"abuseCeilingPerMinute": 2_000_000}}),
            json!({"api": {"perSecond": 3}}),
        ] {
            let ctx = app.context(&app.tenant).await;
            let r =
                flexportal_app::admin::set_settings(app.app(), &ctx.tenant_id, &bad, false).await;
            assert!(r.is_err(), "{bad}");
        }
    }
);

both_engines!(
    a_merge_with_null_lifts_the_ceiling_and_resets_other_fields,
    |app: TestApp| async move {
        let tenant_id = app.context(&app.tenant).await.tenant_id;
        let merge = |doc: Value| {
            let (app, tenant_id) = (app.app().clone(), tenant_id.clone());
            async move {
                flexportal_app::admin::set_settings(&app, &tenant_id, &doc, true)
                    .await
                    .unwrap()
            }
        };
        // `null` on the ceiling turns it off: requests carry no limit any more.
        let s = merge(json!({"api": {"abuseCeilingPerMinute": null}})).await;
        assert_eq!(s.api.abuse_ceiling_per_minute, None);
        let (status, h, _) = get(&app, &app.tenant).await;
        assert_eq!(status, 200);
        assert!(h.get("x-ratelimit-limit").is_none());
        // `null` on a field that takes no null returns it to its default; the rest stays.
        let s = merge(json!({"payments": {"lateFees": {"enabled": true}}})).await;
        assert!(s.payments.late_fees.enabled);
        let s = merge(json!({"payments": {"lateFees": {"enabled": null}}})).await;
        assert!(!s.payments.late_fees.enabled);
        assert_eq!(s.api.abuse_ceiling_per_minute, None);
        // A ceiling set again applies again.
        let s = merge(json!({"api": {"abuseCeilingPerMinute": 5000}})).await;
        assert_eq!(s.api.effective_limit(), Some(5000));
        let (_, h, _) = get(&app, &app.tenant).await;
        assert_eq!(
            h.get("x-ratelimit-limit").and_then(|v| v.to_str().ok()),
            Some("5000")
        );
    }
);
