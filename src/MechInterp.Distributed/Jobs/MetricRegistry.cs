using System.Collections.Concurrent;

namespace MechInterp.Distributed.Jobs;

/// <summary>
/// Named metrics of a worker: code that cannot travel (a delegate) registered on every worker under a name that can.
/// A job names the metric (<see cref="MetricSpec.Named"/>) with numeric arguments; each worker builds the delegate
/// from its own registration. Every worker of a cluster must register the same names with the same code, or results
/// would depend on where a unit ran.
/// </summary>
public sealed class MetricRegistry
{
    private readonly ConcurrentDictionary<string, Func<MetricContext, Func<Tensor, Tensor>>> _factories = new(StringComparer.Ordinal);

    /// <summary>Registers (or replaces) <paramref name="name"/>.</summary>
    /// <param name="name">The name jobs use.</param>
    /// <param name="factory">Builds the metric (logits [batch, pos, d_vocab] → one number) from a job's context.</param>
    /// <returns>This registry.</returns>
    public MetricRegistry Register(string name, Func<MetricContext, Func<Tensor, Tensor>> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[name] = factory;
        return this;
    }

    /// <summary>The names registered here.</summary>
    public IReadOnlyCollection<string> Names => _factories.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Builds the metric registered as <paramref name="name"/>.</summary>
    /// <param name="name">A registered name.</param>
    /// <param name="context">The model, base tokens and arguments.</param>
    /// <exception cref="KeyNotFoundException">Nothing is registered under <paramref name="name"/>.</exception>
    public Func<Tensor, Tensor> Resolve(string name, MetricContext context)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_factories.TryGetValue(name, out var factory))
            throw new KeyNotFoundException($"no metric named '{name}' is registered on this worker (it has [{string.Join(", ", Names)}]): " +
                "register it on every worker silo with AddMechInterpWorker(o => o.Metrics.Register(name, ...))");
        return factory(context);
    }
}
