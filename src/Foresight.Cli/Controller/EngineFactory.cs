namespace Foresight.Cli.Controller;

/// <summary>Picks the orchestrator adapter for the loop: the one place that names them (composition root).</summary>
public static class EngineFactory
{
    public static ValueTask<IControllerEngine> CreateAsync(ControllerConfig config, TimeProvider time, CancellationToken cancellationToken)
    {
        _ = time;
        _ = cancellationToken;
        return config.Orchestrator switch
        {
            "kubernetes" => throw new NotSupportedException("kubernetes engine pending"),
            _ => ValueTask.FromResult<IControllerEngine>(SimulatedEngine.Create(config.Simulated, config.Predictive)),
        };
    }
}
