using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Foresight.Kubernetes.Tests")]
