//! Text messages to citizens (verification codes, notices) behind an interface; the development sender
//! writes them to the log.

/// Sends a text message.
pub trait SmsSender: Send + Sync {
    fn send(&self, phone: &str, text: &str);
}

/// Writes messages to the log instead of sending them (development and single-node demos).
pub struct LogSmsSender;

impl SmsSender for LogSmsSender {
    fn send(&self, phone: &str, text: &str) {
        let shown = fengqiao_domain::personal::mask_text(phone);
        tracing::info!(target: "fengqiao::sms", phone = %shown, text = %text, "SMS (development sender: not sent)");
    }
}
