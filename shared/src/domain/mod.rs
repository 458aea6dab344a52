//! The office's vocabulary: a document's record and its statuses, the keys it is stored
//! under, the services citizens apply for, the departments and the rules that route each
//! document to one, the office's time (Europe/Warsaw) and the statutory deadlines a receipt
//! starts.

pub mod channel_policies;
pub mod deadline;
pub mod keys;
pub mod limits;
pub mod model;
pub mod routing;
pub mod services;
pub mod time;
