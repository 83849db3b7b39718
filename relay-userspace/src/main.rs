fn main() -> anyhow::Result<()> {
    relay::cli::main()
}
