using System.Globalization;
using Foresight.Forecasting;
using Foresight.Forecasting.Neural;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary>A progress bar over the training epochs of a neural model while <c>work</c> fits it (a spinner otherwise).</summary>
internal static class TrainingProgress
{
    public static T Run<T>(IForecaster model, string what, Func<T> work)
    {
        if (Console.IsOutputRedirected)
        {
            return work();
        }

        (int maxEpochs, Action<IProgress<EpochProgress>?> attach)? neural = model switch
        {
            RecurrentForecaster r => (r.Options.MaxEpochs, p => r.Progress = p),
            EsRnnForecaster e => (e.Options.MaxEpochs, p => e.Progress = p),
            _ => null,
        };
        T result = default!;
        if (neural is not { } n)
        {
            AnsiConsole.Status().Start($"{Markup.Escape(what)}…", _ => result = work());
            return result;
        }

        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(Markup.Escape(what), maxValue: n.maxEpochs);
                n.attach(new Reporter(p =>
                {
                    task.Value = p.Epoch;
                    task.Description = p.ValidationLoss is double v
                        ? Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{what}: epoch {p.Epoch}, validation loss {v:F4}"))
                        : Markup.Escape($"{what}: epoch {p.Epoch}");
                }));
                try
                {
                    result = work();
                }
                finally
                {
                    n.attach(null);
                }

                task.Value = task.MaxValue; // early stopping ends before the last epoch
            });
        return result;
    }

    /// <summary>Reports synchronously on the training thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class Reporter(Action<EpochProgress> report) : IProgress<EpochProgress>
    {
        public void Report(EpochProgress value) => report(value);
    }
}
