using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Foresight.Cli.Commands;
using Foresight.Cli.Controller;
using Foresight.Control.Journal;
using Foresight.IntegrationTests.Prometheus;
using Foresight.Kubernetes;
using Foresight.Kubernetes.Tests.Fake;
using FakeKubeCluster = Foresight.Kubernetes.Tests.Fake.FakeCluster;

namespace Foresight.IntegrationTests.Migration;

/// <summary>
/// <c>run --orchestrator kubernetes</c> end to end: the engine <see cref="EngineFactory"/> builds from a config file (with
/// a SQLite journal), ticked by <see cref="ControllerLoop"/>, against the in-test API server and a real Prometheus
/// backfilled with the app's request rate per site. The traffic enters at site a for the first half of every
/// <see cref="Season"/> and at site b for the second half, so once the forecaster has a season of history it predicts
/// the move to b at <see cref="Shift"/>. The user's Deployments have no HPA: the controller scales them itself.
/// </summary>
public sealed class KubernetesMigrationTests : IDisposable
{
    private const double Season = 1200;
    private const double Shift = 1800;
    private const double Rate = 120;
    private const double Tick = 5;
    private const string Query = "shop_requests_per_second";

    private readonly string _dir = Directory.CreateTempSubdirectory("foresight-migration-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Run_moves_the_app_to_b_ahead_of_the_predicted_shift_and_journals_every_step()
    {
        await using BackfilledPrometheus prometheus = await BackfilledPrometheus.StartAsync(OpenMetrics(Shift + 600));
        await using FakeKubeCluster cluster = NewCluster();
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, prometheus.Url), "kubernetes");
        Run run = await RunUntilAsync(cluster, config, Shift + 200);

        // The first shift, with no history to forecast from, is only reacted to: b has no ready pod when it arrives.
        Assert.True(run.At((Season / 2) + 5).ReadyAt("b") == 0, run.Around(Season / 2));

        // B's pods were made for this shift (none two minutes before it), and both were Ready before it arrived.
        Assert.True(run.At(Shift - 120).ReadyAt("b") == 0, run.Around(Shift - 120));
        Assert.True(run.At(Shift - 5).ReadyAt("b") >= 2, run.Around(Shift - 5));

        // The routes: b's own traffic is sent to b before the shift; a's is moved to b by the time a is drained.
        Assert.True(run.At(Shift - 5).Weights("b") == "b", run.Around(Shift - 5));
        Observation drained = run.Ticks.First(o => o.Time > Shift - 120 && o.DrainingAt("a") > 0);
        Assert.Equal("b", drained.Weights("a"));

        // A's pods are drained first (out of the Services, still running), then removed: none left, replicas 0.
        Observation gone = run.Ticks.First(o => o.Time > drained.Time && o.PodsAt("a") == 0);
        Assert.True(gone.Time <= Shift + 180, run.Around(gone.Time));
        Assert.Equal(0, cluster.Server.Get("deployments", "shop-a")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.True(run.Ticks[^1].ReadyAt("b") >= 2 && run.Ticks[^1].Weights("a") == "b" && run.Ticks[^1].Weights("b") == "b", run.Around(run.Ticks[^1].Time));

        // Every step is in the journal, done, in this order: spin-ups at b, b's route, a's route, drains, stops.
        using ReconcileJournal journal = ReconcileJournal.Open(config.Journal!, cluster.Clock);
        var steps = journal.ForApp("shop").Where(e => (e.Time - FakeKubeCluster.Epoch).TotalSeconds > Shift - 120).ToList();
        Assert.All(steps, e => Assert.Equal(JournalStatus.Done, e.Status));
        Assert.Empty(journal.Unresolved());
        long spinUp = steps.First(e => e.Kind == JournalKinds.SpinUp && e.Detail.Contains("at b", StringComparison.Ordinal)).Seq;
        long routeB = steps.First(e => e is { Kind: JournalKinds.Route, Target: "b" } && e.Detail == "b=1000").Seq;
        long routeA = steps.First(e => e is { Kind: JournalKinds.Route, Target: "a" } && e.Detail == "b=1000").Seq;
        long drain = steps.First(e => e.Kind == JournalKinds.Drain && e.Target.StartsWith("shop-a", StringComparison.Ordinal)).Seq;
        long stop = steps.First(e => e.Kind == JournalKinds.Stop && e.Target.StartsWith("shop-a", StringComparison.Ordinal)).Seq;
        Assert.True(spinUp < routeB && routeB < routeA && routeA < drain && drain < stop, string.Join("\n", steps.Select(Describe)));
        Assert.Equal(2, steps.Count(e => e.Kind == JournalKinds.SpinUp));

        AssertSafe(run);
    }

    [Fact]
    public async Task A_site_without_a_Deployment_gets_one_of_the_apps_configured_image_ready_before_the_shift()
    {
        await using BackfilledPrometheus prometheus = await BackfilledPrometheus.StartAsync(OpenMetrics(Shift + 300));
        await using FakeKubeCluster cluster = NewCluster(deploymentAtB: false);
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, prometheus.Url, image: "registry.example/shop:2.1"), "kubernetes");
        Run run = await RunUntilAsync(cluster, config, Shift + 150);

        // The controller made shop-b, of the configured image (the user's shop-a template is not copied), and its pods
        // were Ready and routed before the forecast shift.
        JsonObject created = cluster.Server.Get("deployments", "shop-b")!;
        Assert.Equal("registry.example/shop:2.1", created["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.True(run.At(Shift - 5).ReadyAt("b") >= 2 && run.At(Shift - 5).Weights("b") == "b", run.Around(Shift - 5));
        Assert.True(run.Ticks[^1].PodsAt("a") == 0 && run.Ticks[^1].Weights("a") == "b", run.Around(run.Ticks[^1].Time));
        AssertSafe(run);
    }

    [Fact]
    public async Task With_the_users_HPAs_it_raises_bs_floor_ahead_of_the_shift_and_never_scales_a_Deployment_itself()
    {
        await using BackfilledPrometheus prometheus = await BackfilledPrometheus.StartAsync(OpenMetrics(Shift + 300));
        await using FakeKubeCluster cluster = NewCluster(hpas: true);
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, prometheus.Url), "kubernetes");
        Run run = await RunUntilAsync(cluster, config, Shift + 200);

        // The first shift, unforecast, finds b with the one pod of the user's minimum.
        Assert.True(run.At((Season / 2) + 5).ReadyAt("b") == 1, run.Around(Season / 2));

        // Ahead of the forecast one, the controller raises b's HPA floor (the HPA adds the pod), journaled and done, and
        // b has two ready pods and its own traffic before the shift arrives.
        using ReconcileJournal journal = ReconcileJournal.Open(config.Journal!, cluster.Clock);
        JournalEntry raise = journal.ForApp("shop").First(e => e is { Kind: JournalKinds.Floor, Target: "b" } && e.Payload == "2");
        double raisedAt = (raise.Time - FakeKubeCluster.Epoch).TotalSeconds;
        Assert.True(raisedAt is > Shift - 120 and < Shift - 30, $"raised at {raisedAt}\n{run.Around(raisedAt)}");
        Assert.Equal(JournalStatus.Done, raise.Status);
        Assert.True(run.At(Shift - 5).ReadyAt("b") >= 2 && run.At(Shift - 5).Weights("b") == "b", run.Around(Shift - 5));
        Assert.Empty(journal.Unresolved());

        // The HPAs own the counts: no spin-up, drain or stop, no replica count written, a keeps the user's minimum of 2.
        Assert.DoesNotContain(journal.ForApp("shop"), e => e.Kind is JournalKinds.SpinUp or JournalKinds.Drain or JournalKinds.Stop);
        Assert.DoesNotContain(cluster.Server.Requests, r => r is { IsWrite: true, Plural: "deployments" } && r.Body.Contains("replicas", StringComparison.Ordinal));
        Assert.All(run.Ticks, o => Assert.True(o.ReadyAt("a") >= 2, run.Around(o.Time)));
        AssertSafe(run);
    }

    [Fact]
    public async Task Killed_in_the_middle_of_each_step_and_restarted_on_the_same_journal_it_converges_safely()
    {
        await using BackfilledPrometheus prometheus = await BackfilledPrometheus.StartAsync(OpenMetrics(Shift + 600));
        await using FakeKubeCluster cluster = NewCluster();
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, prometheus.Url), "kubernetes");

        // Where the process dies: during the API request that carries out each kind of step of the move to b, after the
        // journal has its intent. The request never returns; the pass is cancelled as a dying process would be.
        var kills = new (string Step, Func<RecordedRequest, bool> Request)[]
        {
            ("spin-up", r => r.Summary == "merge deployments/shop-b"),
            ("route", r => r.Summary.StartsWith("apply services/shop-via-", StringComparison.Ordinal)),
            ("drain", r => r.Summary.StartsWith("merge pods/shop-a-", StringComparison.Ordinal) && r.Body.Contains(Names.DrainingSinceAnnotation, StringComparison.Ordinal)),
            ("stop", r => r.Summary.StartsWith("merge pods/shop-a-", StringComparison.Ordinal) && r.Body.Contains(Names.StoppedAnnotation, StringComparison.Ordinal)),
        };
        var run = new Run(cluster, config);
        var killedAt = new List<(string Step, double Time, int Unresolved)>();
        int next = 0;
        bool hung = false;
        try
        {
            await run.StartAsync();
            await run.UntilAsync(Shift - 120);
            cluster.Server.FailNext(r => hung = kills[next].Request(r), status: 0);
            while (run.Now < Shift + 590)
            {
                if (await run.TickAsync(() => hung))
                {
                    continue;
                }

                cluster.Server.ClearFaults();
                await run.StopAsync();
                using (ReconcileJournal reader = ReconcileJournal.Open(config.Journal!, cluster.Clock))
                {
                    killedAt.Add((kills[next].Step, run.Now, reader.Unresolved().Count));
                }

                await run.StartAsync();
                hung = false;
                if (++next < kills.Length)
                {
                    cluster.Server.FailNext(r => hung = kills[next].Request(r), status: 0);
                }
            }
        }
        finally
        {
            await run.StopAsync();
        }

        string trace = string.Join("\n", run.Ticks.Where(o => o.Time >= Shift - 130)) + "\nkilled: " + string.Join(", ", killedAt);
        Assert.True(killedAt.Select(k => k.Step).SequenceEqual(kills.Select(k => k.Step)), trace);

        // Each kill left its intent open in the journal; each new engine resolved it (resumed, confirmed or rolled back).
        Assert.All(killedAt, k => Assert.True(k.Unresolved > 0, $"no open intent after the kill during {k.Step}\n{trace}"));
        using ReconcileJournal journal = ReconcileJournal.Open(config.Journal!, cluster.Clock);
        Assert.Empty(journal.Unresolved());

        // Converged: a's traffic and b's go to b's ready pods, a has no pod left, and it stays so.
        Observation last = run.Ticks[^1];
        Assert.True(last.ReadyAt("b") >= 2 && last.PodsAt("a") == 0 && last.Weights("a") == "b" && last.Weights("b") == "b", trace);
        Assert.Equal(0, cluster.Server.Get("deployments", "shop-a")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(5, run.Starts);
        AssertSafe(run);
    }

    /// <summary>Never zero ready capacity, and no route names a site without a ready pod, at every observed moment.</summary>
    private static void AssertSafe(Run run)
    {
        foreach (Observation o in run.Ticks)
        {
            Assert.True(o.ReadyAt("a") + o.ReadyAt("b") > 0, $"no ready pod at t={o.Time}\n{run.Around(o.Time)}");
            foreach (string ingress in new[] { "a", "b" })
            {
                foreach (char site in o.Weights(ingress))
                {
                    Assert.True(o.ReadyAt(site.ToString()) > 0, $"the route of {ingress} names {site} without a ready pod at t={o.Time}\n{run.Around(o.Time)}");
                }
            }
        }
    }

    private static string Describe(JournalEntry e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.Seq} t={(e.Time - FakeKubeCluster.Epoch).TotalSeconds:0} {e.Kind} {e.Target} {e.Detail} {e.Status}");

    private static FakeKubeCluster NewCluster(bool hpas = false, bool deploymentAtB = true)
    {
        var cluster = new FakeKubeCluster(gatewayApi: false, ns: "shop")
        {
            // The kubelet stand-in: Running after the app's cold start (10 s), Ready once warmed up (20 s more): the
            // readiness probe only passes on a warm instance (AppWorkload.ReadinessPath).
            StartDelay = TimeSpan.FromSeconds(10),
            ReadyDelay = TimeSpan.FromSeconds(20),
        };
        cluster.Server.Create("deployments", UserWorkloads.Deployment("shop-a", "a", 2, ("app", "shop")));
        if (deploymentAtB)
        {
            cluster.Server.Create("deployments", UserWorkloads.Deployment("shop-b", "b", hpas ? 1 : 0, ("app", "shop")));
        }

        if (hpas)
        {
            cluster.Server.Create("horizontalpodautoscalers", UserWorkloads.Hpa("shop-a", min: 2, max: 6));
            cluster.Server.Create("horizontalpodautoscalers", UserWorkloads.Hpa("shop-b", min: 1, max: 6));
        }

        cluster.Advance(TimeSpan.FromSeconds(40)); // the user's pods at a serve before Foresight is installed
        return cluster;
    }

    private static double RateAt(string site, double t) => ((t % Season) < Season / 2) == (site == "a") ? Rate : 0;

    /// <summary>The app's request rate per site every 5 s of the run's (fake) time, as a gauge Prometheus serves.</summary>
    private static string OpenMetrics(double until)
    {
        var text = new StringBuilder($"# TYPE {Query} gauge\n");
        long start = FakeKubeCluster.Epoch.ToUnixTimeSeconds();
        foreach (string site in new[] { "a", "b" })
        {
            for (int t = 0; t <= until + 60; t += 5)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Query}{{site=\"{site}\"}} {RateAt(site, t)} {start + t}\n");
            }
        }

        return text.Append("# EOF\n").ToString();
    }

    /// <summary>Runs the controller from the start until <paramref name="until"/>, stopping it however the run ends.</summary>
    private static async Task<Run> RunUntilAsync(FakeKubeCluster cluster, ControllerConfig config, double until)
    {
        var run = new Run(cluster, config);
        try
        {
            await run.StartAsync();
            await run.UntilAsync(until);
        }
        finally
        {
            await run.StopAsync();
        }

        return run;
    }

    private string WriteConfig(FakeKubeCluster cluster, Uri prometheus, string? image = null)
    {
        string kubeconfig = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(kubeconfig, UserWorkloads.Kubeconfig(cluster.Server.Uri, "shop"));
        string path = Path.Combine(_dir, "controller.yaml");
        File.WriteAllText(path, $"""
            orchestrator: kubernetes
            tickMs: {Tick * 1000}
            journal: foresight.db
            kubernetes:
              kubeconfig: {kubeconfig}
              namespace: shop
              prometheus: {prometheus}
              stepSeconds: 5
              horizonSteps: 14
              warmupSeconds: {Season}
              seasonSeconds: {Season}
              forecaster: seasonal-naive
              apps:
                - name: shop
                  sites: [a, b]
                  query: {Query}
                  siteLabel: site
                  coldStartSeconds: 10
                  warmupSeconds: 20
                  maxInstances: 6
            {(image is null ? "" : $"      image: {image}")}
            """);
        return path;
    }

    /// <summary>What the API server held after one tick: the pods per site and each ingress Service's weighted sites.</summary>
    internal sealed record Observation(double Time, IReadOnlyList<PodView> Pods, IReadOnlyDictionary<string, string> Routes, string Commands)
    {
        public int ReadyAt(string site) => Pods.Count(p => p.Site == site && p is { Ready: true, Terminating: false, Draining: false });

        public int DrainingAt(string site) => Pods.Count(p => p.Site == site && p is { Draining: true, Terminating: false });

        public int PodsAt(string site) => Pods.Count(p => p.Site == site);

        /// <summary>The sites an ingress's Service sends traffic to, with positive weight, as one string ("ab", "b", "").</summary>
        public string Weights(string ingress) => Routes.GetValueOrDefault(ingress, "");

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"t={Time:0} pods[{string.Join(" ", Pods)}] routes[{string.Join(" ", Routes.Select(r => $"{r.Key}->{r.Value}"))}] {Commands}");

        public static Observation Read(FakeKubeCluster cluster, string commands)
        {
            var pods = cluster.Server.List("pods").Select(p => new PodView(
                (p["metadata"]!["labels"]!["site"] ?? p["metadata"]!["labels"]![Names.SiteLabel])!.GetValue<string>(),
                p["status"]?["conditions"] is JsonArray c && c.OfType<JsonObject>().Any(x => x["type"]!.GetValue<string>() == "Ready" && x["status"]!.GetValue<string>() == "True"),
                p["metadata"]!["deletionTimestamp"] is not null,
                p["metadata"]!["labels"]![Names.ServingLabel]?.GetValue<string>() == "false")).ToList();
            var routes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string ingress in new[] { "a", "b" })
            {
                if (cluster.Server.Get("services", Names.Ingress("shop", ingress))?["metadata"]?["annotations"]?[Names.WeightsAnnotation]?.GetValue<string>() is { } json)
                {
                    routes[ingress] = string.Concat(JsonNode.Parse(json)!.AsObject().Where(w => w.Value!.GetValue<int>() > 0).Select(w => w.Key).Order(StringComparer.Ordinal));
                }
            }

            return new Observation((cluster.Clock.GetUtcNow() - FakeKubeCluster.Epoch).TotalSeconds, pods, routes, commands);
        }
    }

    internal sealed record PodView(string Site, bool Ready, bool Terminating, bool Draining)
    {
        public override string ToString() => $"{Site}{(Ready ? "R" : "-")}{(Draining ? "D" : "")}{(Terminating ? "T" : "")}";
    }

    /// <summary>The controller process: an engine from the config, ticked every 5 s of fake time; it can be killed and restarted.</summary>
    private sealed class Run(FakeKubeCluster cluster, ControllerConfig config)
    {
        private IControllerEngine? _engine;
        private ControllerLoop? _loop;
        private readonly List<CommandRecord> _commands = [];

        public List<Observation> Ticks { get; } = [];

        public int Starts { get; private set; }

        public double Now => (cluster.Clock.GetUtcNow() - FakeKubeCluster.Epoch).TotalSeconds;

        public async Task StartAsync()
        {
            _engine = await EngineFactory.CreateAsync(config, cluster.Clock, CancellationToken.None);
            _loop = new ControllerLoop(_engine, TimeSpan.FromSeconds(Tick), dryRun: false, cluster.Clock, onCommand: _commands.Add);
            Starts++;
        }

        public async Task StopAsync()
        {
            if (_engine is not null)
            {
                await _engine.DisposeAsync();
                _engine = null;
            }
        }

        /// <summary>One tick: 5 s of the cluster, then one pass of the loop; returns false when the pass was killed.</summary>
        public async Task<bool> TickAsync(Func<bool>? killed = null)
        {
            cluster.Advance(TimeSpan.FromSeconds(Tick));
            int before = _commands.Count;
            using var kill = new CancellationTokenSource();
            Task pass = _loop!.TickAsync(kill.Token);
            while (!pass.IsCompleted && killed?.Invoke() != true)
            {
                await Task.WhenAny(pass, Task.Delay(10));
            }

            bool died = !pass.IsCompleted;
            if (died)
            {
                // The process dies in the middle of the pass: its request never returns.
                await kill.CancelAsync();
                try
                {
                    await pass.WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (OperationCanceledException)
                {
                }
            }
            else
            {
                await pass;
            }

            string commands = string.Join("; ", _commands.Skip(before).Select(c => $"{c.Kind} {c.Target} {c.Detail} {c.Outcome}"));
            Ticks.Add(Observation.Read(cluster, (died ? "KILLED " : "") + commands));
            return !died;
        }

        public async Task UntilAsync(double time)
        {
            while (Now < time - 1e-9)
            {
                await TickAsync();
            }
        }

        public Observation At(double time) => Ticks.First(o => o.Time >= time - 1e-9);

        /// <summary>The ticks around a time, for failure messages.</summary>
        public string Around(double time) => string.Join("\n", Ticks.Where(o => Math.Abs(o.Time - time) <= 60));
    }
}
