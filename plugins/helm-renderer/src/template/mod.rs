//! A Go `text/template` implementation with Go's error positions and texts.

mod ast;
mod exec;
mod lex;
mod number;
mod parse;

pub use exec::{Budget, ExecEnv, ExecError, Limits, TemplateSet, execute};
pub use number::parse_go_int;
pub use parse::ParseError;

#[cfg(test)]
mod tests;
