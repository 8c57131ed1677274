namespace Prh.Contracts.Sweeps;

public enum SweepPhase { Pending, Importing, Scoring, Completed, Failed }
