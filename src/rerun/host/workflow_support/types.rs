//! The variants `workflow-support@6.0.0` defines, as Rust types the component model lifts and
//! lowers (case order and names as in the WIT).

use wasmtime::component::{ComponentType, Lift, Lower};

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum SubmitJsonError {
    #[component(name = "ffqn-parsing-error")]
    FfqnParsingError(String),
    #[component(name = "function-not-found")]
    FunctionNotFound,
    #[component(name = "type-check-error")]
    TypeCheckError(String),
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum JoinNextTryError {
    #[component(name = "all-processed")]
    AllProcessed,
    #[component(name = "pending")]
    Pending,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum GetResultJsonError {
    #[component(name = "execution-id-parsing-error")]
    ExecutionIdParsingError(String),
    #[component(name = "not-found-in-processed-responses")]
    NotFoundInProcessedResponses,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum JoinSetCreateError {
    #[component(name = "conflict")]
    Conflict,
    #[component(name = "invalid-name")]
    InvalidName(String),
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum JoinNextError {
    #[component(name = "all-processed")]
    AllProcessed,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum StubJsonError {
    #[component(name = "execution-id-parsing-error")]
    ExecutionIdParsingError(String),
    #[component(name = "execution-not-found")]
    ExecutionNotFound,
    #[component(name = "type-check-error")]
    TypeCheckError(String),
    #[component(name = "conflict")]
    Conflict,
}
