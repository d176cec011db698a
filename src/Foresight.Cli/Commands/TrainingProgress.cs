using System.Globalization;
using Foresight.Forecasting;
using Foresight.Forecasting.Ensembles;
using Foresight.Forecasting.Neural;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary>Progress bars over the training epochs of a neural model or ensemble while <c>work</c> fits it (a spinner otherwise).</summary>
internal static class TrainingProgress
{
    public static T Run<T>(IForecaster model, string what, Func<T> work)
    {
        if (Console.IsOutputRedirected)
        {
            return work();
        }

        // One bar per neural model: the model itself, or each member of an ensemble (members may fit side by side).
        var neural = (model is EnsembleForecaster e ? e.Members : [model])
            .Select(Neural)
            .OfType<(string Name, int MaxEpochs, Action<IProgress<EpochProgress>?> Attach)>()
            .ToArray();
        T result = default!;
        if (neural.Length == 0)
        {
            AnsiConsole.Status().Start($"{Markup.Escape(what)}…", _ => result = work());
            return result;
        }

        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var tasks = new List<ProgressTask>();
                foreach ((string name, int maxEpochs, Action<IProgress<EpochProgress>?> attach) in neural)
                {
                    string label = neural.Length == 1 ? what : $"{what}: {name}";
                    ProgressTask task = context.AddTask(Markup.Escape(label), maxValue: maxEpochs);
                    attach(new Reporter(p =>
                    {
                        task.Value = p.Epoch;
                        task.Description = p.ValidationLoss is double v
                            ? Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{label}: epoch {p.Epoch}, validation loss {v:F4}"))
                            : Markup.Escape($"{label}: epoch {p.Epoch}");
                    }));
                    tasks.Add(task);
                }

                try
                {
                    result = work();
                }
                finally
                {
                    foreach (var n in neural)
                    {
                        n.Attach(null);
                    }
                }

                foreach (ProgressTask task in tasks)
                {
                    task.Value = task.MaxValue; // early stopping ends before the last epoch
                }
            });
        return result;
    }

    private static (string Name, int MaxEpochs, Action<IProgress<EpochProgress>?> Attach)? Neural(IForecaster model) => model switch
    {
        // The seed tells apart the members of a seed ensemble, which share a name.
        RecurrentForecaster r => ($"{r.Name} seed {r.Options.Seed}", r.Options.MaxEpochs, p => r.Progress = p),
        EsRnnForecaster e => ($"{e.Name} seed {e.Options.Seed}", e.Options.MaxEpochs, p => e.Progress = p),
        _ => null,
    };

    /// <summary>Reports synchronously on the training thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class Reporter(Action<EpochProgress> report) : IProgress<EpochProgress>
    {
        public void Report(EpochProgress value) => report(value);
    }
}
