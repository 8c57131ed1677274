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
    /// <summary>
    /// Hosted by Kubernetes (redis clustering, with <see cref="AdvertisedAddress"/> the pod IP):
    /// Microsoft.Orleans.Hosting.Kubernetes takes the silo's name and cluster ids from the pod (POD_NAME,
    /// POD_NAMESPACE, ORLEANS_CLUSTER_ID, ORLEANS_SERVICE_ID), binds every address and watches the cluster's pods,
    /// which needs a role allowing pods get, list, watch, patch and delete.
    /// </summary>
    public bool Kubernetes { get; set; }
    /// <summary>Bind every address (in a pod) while advertising <see cref="AdvertisedAddress"/>; implied by <see cref="Kubernetes"/>.</summary>
    public bool ListenOnAnyAddress { get; set; }
    /// <summary>Graceful shutdown budget; keep it below the pod's termination grace period.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;
    /// <summary>Silo metadata, for example accelerator=gpu (placement reads it).</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];
}
