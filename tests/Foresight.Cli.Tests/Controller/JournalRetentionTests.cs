using Foresight.Cli.Commands;
using Foresight.Cli.Controller;
using Foresight.Control.Journal;
using Foresight.Core;

namespace Foresight.Cli.Tests.Controller;

public sealed class JournalRetentionTests
{
    [Fact]
    public void The_config_sets_max_age_and_max_rows()
    {
        ControllerConfig config = ControllerConfigLoader.Load("journalRetention:\n  maxAge: 6h\n  maxRows: 5000\n", "c.yaml");

        Assert.Equal(TimeSpan.FromHours(6), config.JournalRetention.MaxAge);
        Assert.Equal(5000, config.JournalRetention.MaxRows);
    }

    [Fact]
    public void Without_a_section_the_defaults_apply()
    {
        ControllerConfig config = ControllerConfigLoader.Load("tickMs: 100\n", "c.yaml");

        Assert.Equal(TimeSpan.FromHours(24), config.JournalRetention.MaxAge);
        Assert.Equal(100_000, config.JournalRetention.MaxRows);
    }

    [Theory]
    [InlineData("journalRetention:\n  maxAge: soon\n", "journalRetention.maxAge", 2)]
    [InlineData("journalRetention:\n  maxAge: 10s\n", "journalRetention.maxAge", 2)]
    [InlineData("journalRetention:\n  maxRows: 5\n", "journalRetention.maxRows", 2)]
    [InlineData("journalRetention:\n  maxRows: many\n", "journalRetention.maxRows", 2)]
    [InlineData("journalRetention:\n  keep: 5\n", "journalRetention.keep", 2)]
    public void Bad_retention_is_rejected_naming_the_field(string yaml, string field, long line)
    {
        InvalidInputException e = Assert.Throws<InvalidInputException>(() => ControllerConfigLoader.Load(yaml, "c.yaml"));

        Assert.Equal(field, e.Field);
        Assert.Equal(line, e.Line);
        Assert.Equal("c.yaml", e.File);
    }

    [Fact]
    public void The_command_line_overrides_the_config_and_is_validated()
    {
        JournalRetention r = RunCommand.ApplyRetention(JournalRetention.Default, "2d", 500);
        Assert.Equal(TimeSpan.FromDays(2), r.MaxAge);
        Assert.Equal(500, r.MaxRows);

        Assert.Equal("--journal-max-age", Assert.Throws<InvalidInputException>(() => RunCommand.ApplyRetention(JournalRetention.Default, "later", null)).File);
        Assert.Equal("--journal-max-rows", Assert.Throws<InvalidInputException>(() => RunCommand.ApplyRetention(JournalRetention.Default, null, 0)).File);
    }
}
