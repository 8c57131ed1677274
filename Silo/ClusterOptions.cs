namespace Prh.Silo;

/// <summary>How a silo joins its cluster (configuration section "Cluster").</summary>
public sealed class PrhClusterOptions
{
    /// <summary>"localhost" (one machine, development) or "redis".</summary>
    public string Clustering { get; set; } = "localhost";
    public string? RedisConnectionString { get; set; }
    public string ClusterId { get; set; } = "prh";
    public string ServiceId { get; set; } = "prh";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>The address other silos reach this one at; loopback unless set.</summary>
    public string? AdvertisedAddress { get; set; }
    /// <summary>The silo's name (Kubernetes: the pod name); Orleans picks one when unset.</summary>
    public string? SiloName { get; set; }
    /// <summary>Bind every address (in a pod) while advertising <see cref="AdvertisedAddress"/>.</summary>
    public bool ListenOnAnyAddress { get; set; }
    /// <summary>Graceful shutdown budget; keep it below the pod's termination grace period.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;
    /// <summary>Silo metadata, for example accelerator=gpu (placement reads it).</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];
}
