//! `--json` output: pretty JSON written to stdout as it is serialized (a replayed state of a long
//! workflow is tens of megabytes of JSON; it is never held as one string).

use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use serde::Serialize;

/// Writes `value` as pretty JSON and a newline to stdout.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).context("writing JSON to stdout")?;
    out.write_all(b"\n").and_then(|()| out.flush()).context("writing JSON to stdout")
}
