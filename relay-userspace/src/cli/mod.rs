//! Command line (clap). Placeholder until the CLI lands.
pub fn main() -> anyhow::Result<()> {
    Ok(())
}
