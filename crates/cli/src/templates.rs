//! `flexportal tenants templates …`: a business unit's contract templates (SPEC §2.9), the text
//! `POST /v1/files/contracts/generate` fills with the order's fields.

use clap::Subcommand;
use flexportal_app::App;
use flexportal_app::contracts;

/// `flexportal tenants templates …`
#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Create or replace a template. A template named `order`, `extension` or `upgrade` is the
    /// default of that contract type; others are chosen with `templateId`.
    Set {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Template id ([A-Za-z0-9_-], at most 100).
        #[arg(long)]
        id: String,
        /// Contract type: order, extension or upgrade (default: the id when it is one of them).
        #[arg(long = "type")]
        contract_type: Option<String>,
        /// The template text, `@FILE` to read it from a file, or `-` for standard input.
        body: String,
    },
    /// List the unit's templates (id, type, size).
    List {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Print JSON (with the bodies).
        #[arg(long)]
        json: bool,
    },
    /// Print a template's text; `--default TYPE` prints the built-in one of a contract type.
    Show {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Template id.
        #[arg(long, required_unless_present = "default")]
        id: Option<String>,
        /// A contract type whose built-in template to print.
        #[arg(long)]
        default: Option<String>,
    },
    /// Remove a template.
    Remove {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Template id.
        #[arg(long)]
        id: String,
    },
}

/// A use case's error as the command line prints it: the message, then each failing field.
pub(crate) fn message(e: flexportal_app::AppError) -> String {
    let wire = e.into_wire();
    let mut text = wire.message.clone();
    for d in &wire.details {
        text.push_str(&format!("\n  {}: {}", d.path, d.message));
    }
    text
}

/// Runs a template command.
pub async fn run(app: &App, cmd: TemplateCommand) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        TemplateCommand::Set {
            tenant,
            id,
            contract_type,
            body,
        } => {
            let text = match body.as_str() {
                "-" => std::io::read_to_string(std::io::stdin())?,
                b => match b.strip_prefix('@') {
                    Some(path) => std::fs::read_to_string(path)?,
                    None => b.to_string(),
                },
            };
            let ty = contract_type.unwrap_or_else(|| {
                if contracts::CONTRACT_TYPES.contains(&id.as_str()) {
                    id.clone()
                } else {
                    "order".to_string()
                }
            });
            let t = contracts::set_template(app, &tenant, &id, &ty, &text)
                .await
                .map_err(message)?;
            println!(
                "template {} ({}) saved: {} bytes",
                t.template_id,
                t.contract_type,
                t.body.len()
            );
        }
        TemplateCommand::List { tenant, json } => {
            let all = contracts::list_templates(app, &tenant)
                .await
                .map_err(message)?;
            if json {
                let v: Vec<serde_json::Value> = all
                    .iter()
                    .map(|t| {
                        serde_json::json!({"templateId": t.template_id,
                            "contractType": t.contract_type, "body": t.body})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for t in &all {
                    println!(
                        "{:<24} {:<10} {} bytes",
                        t.template_id,
                        t.contract_type,
                        t.body.len()
                    );
                }
            }
        }
        TemplateCommand::Show {
            tenant,
            id,
            default,
        } => match (id, default) {
            (_, Some(ty)) => print!("{}", contracts::default_template(&ty)),
            (Some(id), None) => {
                let t = contracts::list_templates(app, &tenant)
                    .await
                    .map_err(message)?
                    .into_iter()
                    .find(|t| t.template_id == id)
                    .ok_or_else(|| format!("no template {id}"))?;
                print!("{}", t.body);
            }
            (None, None) => return Err("--id or --default is required".into()),
        },
        TemplateCommand::Remove { tenant, id } => {
            contracts::remove_template(app, &tenant, &id)
                .await
                .map_err(message)?;
            println!("template {id} removed");
        }
    }
    Ok(())
}
