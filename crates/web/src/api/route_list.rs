//! The API router together with the path of every route it holds, so a test
//! can check each one against the OpenAPI document (axum cannot list them).

use axum::routing::MethodRouter;
use axum::Router;
use warroom_store::Store;

use crate::state::AppState;

/// A `Router` that remembers its route paths (relative to `/api/v1`).
pub struct Routes<S: Store> {
    pub router: Router<AppState<S>>,
    pub paths: Vec<&'static str>,
}

impl<S: Store> Routes<S> {
    pub fn new() -> Routes<S> {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    pub fn route(mut self, path: &'static str, methods: MethodRouter<AppState<S>>) -> Routes<S> {
        self.router = self.router.route(path, methods);
        self.paths.push(path);
        self
    }

    pub fn merge(mut self, other: Routes<S>) -> Routes<S> {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }
}

impl<S: Store> Default for Routes<S> {
    fn default() -> Routes<S> {
        Routes::new()
    }
}
