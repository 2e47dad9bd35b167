//! The narrow edge where notifications leave the process: a [`Transport`] trait, and its
//! SMTP implementation over `lettre` (plain, STARTTLS or TLS, optional auth, from
//! `STOCKYARD_SMTP_URL`). The dispatcher never calls it inside a database transaction.

use std::time::Duration;

use lettre::{
    Message, SmtpTransport, Transport as _,
    message::{Mailbox, MultiPart, header::ContentType},
};

use crate::{Error, Result};

/// How long one SMTP conversation may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// An email ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The notification's id: the `Message-ID`, the same on every attempt, so a receiver
    /// can drop a repeat.
    pub delivery_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

impl Email {
    /// The `Message-ID` header value.
    pub fn message_id(&self) -> String {
        format!("<{}@stockyard>", self.delivery_id)
    }
}

/// Sends notifications out of the process. Errors are the reason, for the notification's
/// `last_error`.
pub trait Transport: Send + Sync {
    fn send_email(&self, email: &Email) -> std::result::Result<(), String>;
}

/// Email over SMTP.
pub struct Smtp {
    mailer: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Smtp {
    /// `smtp://[user:pass@]host:port` (plain; `?tls=required` for STARTTLS) or
    /// `smtps://…` (TLS), sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Self> {
        let mailer = SmtpTransport::from_url(url)
            .map_err(|e| Error::invalid("STOCKYARD_SMTP_URL", format!("{e}")))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from =
            from.parse::<Mailbox>().map_err(|e| Error::invalid("STOCKYARD_MAIL_FROM", format!("{from:?}: {e}")))?;
        Ok(Self { mailer, from })
    }
}

impl Transport for Smtp {
    fn send_email(&self, email: &Email) -> std::result::Result<(), String> {
        let to = email.to.parse::<Mailbox>().map_err(|e| format!("bad address {:?}: {e}", email.to))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .message_id(Some(email.message_id()));
        let message = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(email.body.clone(), html.clone())),
            None => builder.header(ContentType::TEXT_PLAIN).body(email.body.clone()),
        }
        .map_err(|e| format!("cannot build the message: {e}"))?;
        self.mailer.send(&message).map(drop).map_err(|e| e.to_string())
    }
}
