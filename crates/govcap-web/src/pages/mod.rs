//! Server-rendered HTML: the public dashboard and the staff views.

pub mod appeals;
pub mod campaign;
pub mod dashboard;
pub mod forms;
pub mod layout;
pub mod staff;
