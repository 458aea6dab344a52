//! Refuses to build with a broken routing rules file: the same checks as at cold start, with
//! the same error naming the line.

#[allow(dead_code)]
#[path = "../../shared/src/domain/services.rs"]
mod services;

#[allow(dead_code)]
#[path = "../../shared/src/domain/routing.rs"]
mod routing;

// The files name each other by their paths in the library.
mod domain {
    pub(crate) use super::services;
}

fn main() {
    println!("cargo:rerun-if-changed=../../config/routing.json");
    println!("cargo:rerun-if-changed=../../shared/src/domain/routing.rs");
    println!("cargo:rerun-if-changed=../../shared/src/domain/services.rs");
    if let Err(e) = routing::RoutingRules::bundled() {
        // A build script's panic fails the build and shows the message.
        panic!("config/routing.json is not valid: {e}");
    }
}
