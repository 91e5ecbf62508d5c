//! Server-rendered HTML: the public dashboard and the staff views.

pub mod campaign;
pub mod dashboard;
pub mod layout;
pub mod staff;
