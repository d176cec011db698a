using System.Runtime.CompilerServices;

// The fill rule and the gzip verifier are internal; their tests exercise them directly.
[assembly: InternalsVisibleTo("Foresight.Ingest.Tests")]
