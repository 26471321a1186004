//! Bulk asset import (the `flexportal import assets` path): createAsset's rules per row, row-level
//! errors, idempotent re-runs.

use flexportal_app::assets_import;
use flexportal_testkit::{TestApp, both_engines};

const CSV: &str = "Serial Number,SKU,Acquisition Cost,acquisitionDate,location,condition,notes,status\n\
A-0001,IMP-1,1200.50,2024-12-01,Amsterdam,New in box,,available\n\
A-0002,IMP-1,,,Rotterdam,,\"note, with comma\",unavailable\n\
A-0003,NOPE,10,,,,,\n\
A-0004,IMP-1,-3,,,,,\n\
,IMP-1,,,,,,\n\
A-0005,IMP-1,,,,,,rented_out\n\
A-0006,IMP-1,,not-a-date,,,,\n\
A-0001,IMP-1,,,,,,\n\
A-0007,IMP-1,,,,,,returned\n";

both_engines!(
    asset_import_reports_rows_and_is_idempotent,
    |app: TestApp| async move {
        crate::product(&app, "IMP", "Laptops", &["IMP-1"]).await;
        let ctx = app.context(&app.tenant).await;
        let seen = std::sync::Mutex::new(Vec::new());
        let progress = |n: u64| seen.lock().unwrap().push(n);
        let s = assets_import::import(app.app(), &ctx, CSV.as_bytes(), &progress)
            .await
            .unwrap();
        assert_eq!(s.rows, 9);
        assert_eq!(s.created, 3);
        assert_eq!(s.skipped_existing, 1, "the second A-0001 in the file");
        let errs: Vec<(u64, &str)> = s.errors.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(
            errs,
            vec![
                (3, "VARIANT_NOT_FOUND"),
                (4, "VALIDATION_ERROR"),
                (5, "VALIDATION_ERROR"),
                (6, "INVALID_STATUS"),
                (7, "VALIDATION_ERROR")
            ]
        );
        assert_eq!(s.errors[0].serial_number, "A-0003");
        assert_eq!(seen.lock().unwrap().last(), Some(&9));
        let (_, a) = app.get("/v1/assets/A-0001").await;
        assert_eq!(a["acquisitionCost"].to_string(), "1200.50");
        assert_eq!(a["acquisitionDate"], "2024-12-01");
        let (_, a) = app.get("/v1/assets/A-0002").await;
        assert_eq!(
            (a["status"].as_str(), a["notes"].as_str()),
            (Some("unavailable"), Some("note, with comma"))
        );
        assert_eq!(
            a["acquisitionCost"].to_string(),
            "1000.00",
            "copied from the variant"
        );
        let (_, before) = app.get("/v1/assets?sortBy=serialNumber&sortDir=asc").await;

        // A re-run of the same file changes nothing.
        app.clock.advance(3_600_000);
        let again = assets_import::import(app.app(), &ctx, CSV.as_bytes(), &|_| {})
            .await
            .unwrap();
        assert_eq!(
            (again.created, again.skipped_existing, again.errors.len()),
            (0, 4, 5)
        );
        let (_, after) = app.get("/v1/assets?sortBy=serialNumber&sortDir=asc").await;
        assert_eq!(before, after);

        // A header without the required columns is refused before anything is read.
        let e = assets_import::import(
            app.app(),
            &ctx,
            "sku,location\nIMP-1,x\n".as_bytes(),
            &|_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), flexportal_app::ErrorKind::Validation);
        let e = e.into_wire();
        assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"));
    }
);
