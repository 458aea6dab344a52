//! Refuses to build with a broken routing rules file: the same checks as at cold start, with
//! the same error naming the line.

#[allow(dead_code)]
#[path = "../../shared/src/domain/services.rs"]
mod services;

// Public in the library, where clippy leaves exported names alone.
#[allow(dead_code, clippy::enum_variant_names)]
#[path = "../../shared/src/domain/deadline.rs"]
mod deadline;

#[allow(dead_code)]
#[path = "../../shared/src/domain/routing.rs"]
mod routing;

// The files name each other by their paths in the library.
mod domain {
    pub(crate) use super::{deadline, services};
}

fn main() {
    println!("cargo:rerun-if-changed=../../config/routing.json");
    println!("cargo:rerun-if-changed=../../shared/src/domain/routing.rs");
    println!("cargo:rerun-if-changed=../../shared/src/domain/services.rs");
    println!("cargo:rerun-if-changed=../../shared/src/domain/deadline.rs");
    if let Err(e) = routing::RoutingRules::bundled() {
        // A build script's panic fails the build and shows the message.
        panic!("config/routing.json is not valid: {e}");
    }
}
