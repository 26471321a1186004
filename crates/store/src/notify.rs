//! Change notifications across processes: PostgreSQL `LISTEN`/`NOTIFY` on a connection of its own.

use futures_util::StreamExt;
use tokio_postgres::AsyncMessage;

/// What a listener reports (see [`crate::Db::spawn_listener`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenEvent {
    /// `LISTEN` is in place: every later notification will be reported.
    Listening,
    /// A notification arrived on the channel.
    Notified,
    /// The connection ended; notifications may be missed until the next `Listening`.
    Lost,
}

/// Connects, listens on `channel` and reports until the connection ends.
pub(crate) async fn listen(
    cfg: &tokio_postgres::Config,
    channel: &str,
    on_event: &(impl Fn(ListenEvent) + Send + Sync),
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = cfg.connect(tokio_postgres::NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The connection must be polled for the client's own queries to complete, and it is where
    // notifications arrive.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "notification connection failed");
                    break;
                }
            }
        }
    });
    // Identifier quoting: channel names are constants of this program.
    let listening = client.batch_execute(&format!("LISTEN \"{channel}\"")).await;
    if let Err(e) = listening {
        driver.abort();
        return Err(e);
    }
    on_event(ListenEvent::Listening);
    while rx.recv().await.is_some() {
        on_event(ListenEvent::Notified);
    }
    drop(client);
    let _ = driver.await;
    Ok(())
}
