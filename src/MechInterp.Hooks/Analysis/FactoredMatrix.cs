using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace MechInterp;

/// <summary>
/// A matrix M = A·B kept as its two factors (TransformerLens's FactoredMatrix): A [..., ldim, mdim] and
/// B [..., mdim, rdim], usually with a small inner dimension (a head's d_head), so that M [..., ldim, rdim] (e.g.
/// d_model × d_model) is never formed unless <see cref="AB"/> asks for it. Leading batch dims (layer, head) broadcast.
/// Products stay factored; the singular value decomposition, the eigenvalues and the Frobenius norm are computed from
/// the small inner matrices.
/// </summary>
/// <example><code>
/// var ov = model.OV();                 // [n_layers, n_heads, d_model, d_model], factored through d_head
/// var (u, s, v) = ov[1, 3].Svd();      // the singular directions of head L1H3's OV circuit
/// </code></example>
public sealed class FactoredMatrix
{
    /// <summary>M = <paramref name="a"/> · <paramref name="b"/>; leading dims broadcast against each other.</summary>
    public FactoredMatrix(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"FactoredMatrix factors must be matrices (at least 2-D), got A {Tensor.ShapeString(a.Shape)} and B {Tensor.ShapeString(b.Shape)}: unsqueeze a vector first");
        if (a.Shape[^1] != b.Shape[^2])
            throw new ArgumentException($"FactoredMatrix inner dims differ: A {Tensor.ShapeString(a.Shape)} has {a.Shape[^1]} columns, B {Tensor.ShapeString(b.Shape)} has {b.Shape[^2]} rows");
        var batch = ShapeUtil.Broadcast(a.Shape[..^2], b.Shape[..^2]);
        A = a.Rank - 2 == batch.Length && a.Shape[..^2].AsSpan().SequenceEqual(batch) ? a : a.Expand([.. batch, a.Shape[^2], a.Shape[^1]]);
        B = b.Rank - 2 == batch.Length && b.Shape[..^2].AsSpan().SequenceEqual(batch) ? b : b.Expand([.. batch, b.Shape[^2], b.Shape[^1]]);
    }

    /// <summary>The left factor [..., ldim, mdim].</summary>
    public Tensor A { get; }
    /// <summary>The right factor [..., mdim, rdim].</summary>
    public Tensor B { get; }
    /// <summary>Rows of M.</summary>
    public long LDim => A.Shape[^2];
    /// <summary>The inner dimension.</summary>
    public long MDim => A.Shape[^1];
    /// <summary>Columns of M.</summary>
    public long RDim => B.Shape[^1];
    /// <summary>The batch dims.</summary>
    public long[] BatchShape => A.Shape[..^2];
    /// <summary>The shape of M: [..., ldim, rdim].</summary>
    public long[] Shape => [.. BatchShape, LDim, RDim];
    /// <summary>The factors as a pair.</summary>
    public (Tensor A, Tensor B) Pair => (A, B);

    /// <summary>The full product A·B [..., ldim, rdim].</summary>
    public Tensor AB => A.MatMul(B);

    /// <summary>The product the other way round B·A [..., mdim, mdim] (needs ldim == rdim); it has the non-zero
    /// eigenvalues of A·B.</summary>
    public Tensor BA => LDim == RDim ? B.MatMul(A)
        : throw new InvalidOperationException($"BA needs a square product (ldim == rdim), this one is {LDim} × {RDim}");

    /// <summary>Mᵀ = Bᵀ·Aᵀ, still factored.</summary>
    public FactoredMatrix T => new(B.T, A.T);

    /// <summary>The batch element at <paramref name="index"/> (leading dims), e.g. <c>ov[layer, head]</c>.</summary>
    public FactoredMatrix this[params long[] index]
    {
        get
        {
            if (index.Length > BatchShape.Length)
                throw new ArgumentException($"this FactoredMatrix has {BatchShape.Length} batch dim(s) {Tensor.ShapeString(BatchShape)}, got {index.Length} indices");
            Tensor a = A, b = B;
            for (int i = 0; i < index.Length; i++)
            {
                if (index[i] < 0 || index[i] >= BatchShape[i])
                    throw new ArgumentOutOfRangeException(nameof(index), index[i], $"batch dim {i} has size {BatchShape[i]}");
                a = a.Select(0, index[i]);
                b = b.Select(0, index[i]);
            }
            return new FactoredMatrix(a, b);
        }
    }

    /// <summary>M·<paramref name="other"/> for a matrix [..., rdim, n] (or a vector [rdim]). Stays factored through
    /// the smaller of the inner dims (TransformerLens's rule): (A, B·other) when rdim &gt; mdim, else (A·B, other).
    /// A vector gives a plain tensor.</summary>
    public FactoredMatrix MatMul(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Rank < 2) throw new ArgumentException("multiply a vector with MatMulVector; FactoredMatrix products need a matrix", nameof(other));
        if (other.Shape[^2] != RDim)
            throw new ArgumentException($"FactoredMatrix {Tensor.ShapeString(Shape)} @ {Tensor.ShapeString(other.Shape)}: inner dims differ ({RDim} vs {other.Shape[^2]})", nameof(other));
        return RDim > MDim ? new FactoredMatrix(A, B.MatMul(other)) : new FactoredMatrix(AB, other);
    }

    /// <summary>M·<paramref name="other"/> for another factored matrix: (M·other.A)·other.B, factored throughout.</summary>
    public FactoredMatrix MatMul(FactoredMatrix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return MatMul(other.A).MatMul(other.B);
    }

    /// <summary><paramref name="other"/>·M for a matrix [..., n, ldim]: (other·A, B) when ldim &gt; mdim, else (other, A·B).</summary>
    public FactoredMatrix LeftMatMul(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Rank < 2 || other.Shape[^1] != LDim)
            throw new ArgumentException($"{Tensor.ShapeString(other.Shape)} @ FactoredMatrix {Tensor.ShapeString(Shape)}: inner dims differ", nameof(other));
        return LDim > MDim ? new FactoredMatrix(other.MatMul(A), B) : new FactoredMatrix(other, AB);
    }

    /// <summary>M·v for a vector v [rdim] (or [..., rdim] matching the batch): A·(B·v), [..., ldim].</summary>
    public Tensor MatMulVector(Tensor v) => A.MatMul(B.MatMul(v.Unsqueeze(-1))).Squeeze(-1);

    /// <summary>M·other.</summary>
    public static FactoredMatrix operator *(FactoredMatrix m, Tensor other) => m.MatMul(other);
    /// <summary>other·M.</summary>
    public static FactoredMatrix operator *(Tensor other, FactoredMatrix m) => m.LeftMatMul(other);
    /// <summary>Product of two factored matrices.</summary>
    public static FactoredMatrix operator *(FactoredMatrix left, FactoredMatrix right) => left.MatMul(right);

    /// <summary>The Frobenius norm of each matrix [...]: ‖A·B‖² = Σ (AᵀA) ⊙ (B·Bᵀ), from two mdim × mdim matrices.</summary>
    public Tensor Norm()
    {
        var gramA = A.T.MatMul(A); // [..., m, m]
        var gramB = B.MatMul(B.T); // [..., m, m]
        var squared = (gramA * gramB).Sum([-2, -1]);
        return (squared * (squared > 0).To(squared.DType)).Sqrt(); // rounding can push an exact zero just below 0
    }

    /// <summary>
    /// The thin singular value decomposition M = U·diag(S)·Vᵀ: U [..., ldim, k], S [..., k] (descending), V [..., rdim, k]
    /// with k = min(ldim, mdim, rdim)-ish (the inner SVD's rank). Computed from the SVDs of A and B and of the small
    /// middle matrix diag(S_A)·V_Aᵀ·U_B·diag(S_B), in float64 with MathNet.Numerics; returned as float32 on the
    /// factors' device.
    /// </summary>
    public (Tensor U, Tensor S, Tensor V) Svd()
    {
        var a = Batches(A);
        var b = Batches(B);
        var us = new List<Tensor>(); var ss = new List<Tensor>(); var vs = new List<Tensor>();
        for (int i = 0; i < a.Count; i++)
        {
            var (u, s, v) = SvdOne(a[i], b[i]);
            us.Add(FromMatrix(u)); ss.Add(Tensor.FromArray(s.Select(x => (float)x).ToArray(), s.Length)); vs.Add(FromMatrix(v));
        }
        Tensor Stack(List<Tensor> parts) => (parts.Count == 1 && BatchShape.Length == 0 ? parts[0]
            : Tensor.Stack(parts).Reshape([.. BatchShape, .. parts[0].Shape])).To(A.Device);
        return (Stack(us), Stack(ss), Stack(vs));
    }

    /// <summary>U of <see cref="Svd"/> [..., ldim, k].</summary>
    public Tensor U => Svd().U;
    /// <summary>The singular values [..., k], descending.</summary>
    public Tensor S => Svd().S;
    /// <summary>V of <see cref="Svd"/> [..., rdim, k] (M = U·diag(S)·Vᵀ).</summary>
    public Tensor V => Svd().V;

    /// <summary>Drops the left orthogonal factor: diag(S)·Vᵀ [..., k, rdim] (TransformerLens's collapse_l).</summary>
    public Tensor CollapseL()
    {
        var (_, s, v) = Svd();
        return s.Unsqueeze(-1) * v.T;
    }

    /// <summary>Drops the right orthogonal factor: U·diag(S) [..., ldim, k] (TransformerLens's collapse_r).</summary>
    public Tensor CollapseR()
    {
        var (u, s, _) = Svd();
        return u * s.Unsqueeze(-2);
    }

    /// <summary>The eigenvalues of B·A (mdim of them; the non-zero eigenvalues of A·B), one array per batch element in
    /// row-major order of the batch dims.</summary>
    public Complex[][] Eigenvalues()
    {
        if (LDim != RDim) throw new InvalidOperationException($"eigenvalues need a square product (ldim == rdim), this one is {LDim} × {RDim}");
        var a = Batches(A);
        var b = Batches(B);
        return [.. a.Select((ai, i) => (b[i] * ai).Evd().EigenValues.ToArray())];
    }

    /// <summary>The top-left k × k corner of the full product of each batch element (for a quick look).</summary>
    public Tensor Corner(int k = 3)
    {
        long rows = Math.Min(k, LDim), cols = Math.Min(k, RDim);
        return A.Narrow(-2, 0, rows).MatMul(B.Narrow(-1, 0, cols));
    }

    private static (Matrix<double> U, double[] S, Matrix<double> V) SvdOne(Matrix<double> a, Matrix<double> b)
    {
        var (ua, sa, va) = Thin(a);
        var (ub, sb, vb) = Thin(b);
        var middle = Matrix<double>.Build.DiagonalOfDiagonalArray(sa) * va.Transpose() * ub * Matrix<double>.Build.DiagonalOfDiagonalArray(sb);
        var (um, sm, vm) = Thin(middle);
        return (ua * um, sm, vb * vm);
    }

    private static (Matrix<double> U, double[] S, Matrix<double> V) Thin(Matrix<double> m)
    {
        var svd = m.Svd(computeVectors: true);
        int k = Math.Min(m.RowCount, m.ColumnCount);
        return (svd.U.SubMatrix(0, m.RowCount, 0, k), svd.S.ToArray()[..k], svd.VT.SubMatrix(0, k, 0, m.ColumnCount).Transpose());
    }

    /// <summary>Each batch element of a [..., r, c] tensor as a float64 matrix.</summary>
    private static List<Matrix<double>> Batches(Tensor t)
    {
        long r = t.Shape[^2], c = t.Shape[^1];
        var values = t.To(Device.Cpu).To(DType.Float64).Contiguous().ToArray<double>();
        int count = (int)(values.Length / (r * c));
        var result = new List<Matrix<double>>(count);
        for (int i = 0; i < count; i++)
        {
            int offset = (int)(i * r * c);
            result.Add(Matrix<double>.Build.Dense((int)r, (int)c, (row, col) => values[offset + row * c + col]));
        }
        return result;
    }

    private static Tensor FromMatrix(Matrix<double> m)
    {
        var data = new float[m.RowCount * m.ColumnCount];
        for (int i = 0; i < m.RowCount; i++)
            for (int j = 0; j < m.ColumnCount; j++) data[i * m.ColumnCount + j] = (float)m[i, j];
        return Tensor.FromArray(data, m.RowCount, m.ColumnCount);
    }
}
