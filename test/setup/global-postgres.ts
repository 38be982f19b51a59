// Placeholder: replaced by the real one-PostgreSQL-per-suite setup.
export default function setup(): void {}
