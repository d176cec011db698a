using System.Reflection;
using Foresight.Control.Policies.Predictive;

namespace Foresight.Control.Tests.Architecture;

/// <summary>Data flows one way: the controller sees clusters only through the ports, never an adapter.</summary>
public sealed class DependencyDirectionTests
{
    [Theory]
    [InlineData("Foresight.Simulation")]
    [InlineData("Foresight.Kubernetes")]
    [InlineData("Foresight.Feedback")]
    [InlineData("Foresight.Cli")]
    public void The_controller_references_no_adapter_and_no_later_stage(string forbidden)
    {
        Assembly control = typeof(PredictivePolicy).Assembly;

        Assert.Equal("Foresight.Control", control.GetName().Name);
        Assert.DoesNotContain(control.GetReferencedAssemblies(), a => a.Name == forbidden);
    }
}
