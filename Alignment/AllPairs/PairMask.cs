namespace Prh.Alignment.AllPairs;

/// <summary>
/// Which model pairs of a tile a metric scores: row x is the tile's x-th first-argument model, column y
/// its y-th second-argument model. A tile computes exactly these pairs, so nothing already scored is
/// computed again when a tile covers only the new part of a matrix.
/// </summary>
public sealed class PairMask
{
    private readonly bool[] _pairs;

    public PairMask(int firstCount, int secondCount)
    {
        FirstCount = firstCount;
        SecondCount = secondCount;
        _pairs = new bool[checked(firstCount * secondCount)];
    }

    public int FirstCount { get; }
    public int SecondCount { get; }

    public bool this[int first, int second]
    {
        get => _pairs[first * SecondCount + second];
        set => _pairs[first * SecondCount + second] = value;
    }

    public static PairMask All(int firstCount, int secondCount)
    {
        var mask = new PairMask(firstCount, secondCount);
        Array.Fill(mask._pairs, true);
        return mask;
    }

    public int Count => _pairs.Count(p => p);

    public bool IsEmpty => !_pairs.Contains(true);

    /// <summary>The pairs in row-major order.</summary>
    public IEnumerable<(int First, int Second)> Pairs()
    {
        for (int x = 0; x < FirstCount; x++)
            for (int y = 0; y < SecondCount; y++)
                if (this[x, y]) yield return (x, y);
    }

    /// <summary>True when the mask is square and holds exactly the pairs with first >= second (or exactly first &lt;= second).</summary>
    public bool IsTriangle
    {
        get
        {
            if (FirstCount != SecondCount) return false;
            bool lower = true, upper = true;
            for (int x = 0; x < FirstCount && (lower || upper); x++)
                for (int y = 0; y < SecondCount; y++)
                {
                    lower &= this[x, y] == (x >= y);
                    upper &= this[x, y] == (x <= y);
                }
            return lower || upper;
        }
    }

    public PairMask Union(PairMask other)
    {
        if (other.FirstCount != FirstCount || other.SecondCount != SecondCount) throw new ArgumentException("masks of different shapes");
        var union = new PairMask(FirstCount, SecondCount);
        for (int p = 0; p < _pairs.Length; p++) union._pairs[p] = _pairs[p] || other._pairs[p];
        return union;
    }

    /// <summary>
    /// The mask as rectangles of consecutive models, [first0, first1) x [second0, second1): each row's
    /// runs, with consecutive rows of identical runs merged, so a full mask is one rectangle and a
    /// triangle one rectangle per row.
    /// </summary>
    public IReadOnlyList<ModelRectangle> Rectangles()
    {
        var done = new List<ModelRectangle>();
        var open = new List<ModelRectangle>(); // the previous row's runs, still growing downwards
        for (int x = 0; x <= FirstCount; x++)
        {
            var runs = new List<(int Start, int End)>();
            for (int y = 0; x < FirstCount && y < SecondCount; y++)
            {
                if (!this[x, y]) continue;
                int start = y;
                while (y + 1 < SecondCount && this[x, y + 1]) y++;
                runs.Add((start, y + 1));
            }
            bool same = runs.Count == open.Count && runs.Zip(open).All(p => p.First.Start == p.Second.Second0 && p.First.End == p.Second.Second1);
            if (same && runs.Count > 0)
            {
                for (int r = 0; r < open.Count; r++) open[r] = open[r] with { First1 = x + 1 };
                continue;
            }
            done.AddRange(open);
            open = runs.Select(r => new ModelRectangle(x, x + 1, r.Start, r.End)).ToList();
        }
        return done;
    }
}

/// <summary>Consecutive first-argument models [First0, First1) against consecutive second-argument models [Second0, Second1).</summary>
public readonly record struct ModelRectangle(int First0, int First1, int Second0, int Second1);

/// <summary>Consecutive layers [First0, First1) of a tile's first block against layers [Second0, Second1) of its second.</summary>
public readonly record struct LayerRectangle(int First0, int First1, int Second0, int Second1)
{
    public long Pairs => (long)(First1 - First0) * (Second1 - Second0);
}
