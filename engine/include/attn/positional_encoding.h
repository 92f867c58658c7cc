#pragma once
// Positional encodings: sinusoidal ("Attention Is All You Need"), learned, rotary, none.

#include <Eigen/Dense>
#include <string>

namespace attn {

enum class PositionalKind { Sinusoidal, Learned, Rope, None };

/// Which dimensions of a head RoPE rotates together. Both give the same attention when the
/// weights were laid out for them; they differ in the order of Q's and K's dimensions.
enum class RopePairs {
    Adjacent,  ///< (2i, 2i+1): Meta's original Llama, llama2.c, GGUF `llama`
    Halves     ///< (i, i + d_head/2): Hugging Face's rotate_half, GGUF `qwen2`/`qwen3` (NeoX)
};

std::string toString(PositionalKind kind);
/// Parses "sinusoidal", "learned", "rope", "none"; false when unknown.
bool parsePositionalKind(const std::string& text, PositionalKind* out);

/// PE(t, 2i) = sin(t / base^(2i/d)), PE(t, 2i+1) = cos(t / base^(2i/d)).
/// Returns (positions, d_model): row = position t.
Eigen::MatrixXf sinusoidalEncoding(int positions, int d_model, float base = 10000.0f);

/// Position similarity PE·PEᵀ, (T, T).
Eigen::MatrixXf positionSimilarity(const Eigen::MatrixXf& pe);

/// M_k, (d_model, d_model), block-diagonal 2×2 rotations, so that for every t
/// PE(t+k)ᵀ = M_k · PE(t)ᵀ (PE rows taken as column vectors).
Eigen::MatrixXf sinusoidalOffsetMatrix(int d_model, int k, float base = 10000.0f);

/// ω of dimension dim of a sinusoidal encoding: base^(−2⌊dim/2⌋/d_model); even dimensions are
/// sin(t·ω), odd ones cos(t·ω).
double sinusoidalFrequency(int dim, int d_model, float base = 10000.0f);

/// The offset identity checked at one position: M_k·PE(t) against PE(t+k).
struct OffsetCheck {
    Eigen::MatrixXf M;         // (d, d): M_k
    Eigen::VectorXf pe_t;      // (d): PE(t)
    Eigen::VectorXf moved;     // (d): M_k·PE(t)
    Eigen::VectorXf pe_t_k;    // (d): PE(t+k)
    float max_difference = 0;  ///< max_d |M_k·PE(t) − PE(t+k)|: float rounding for even d
};

/// Checks PE(t+k) = M_k·PE(t) for the sinusoidal encoding of width d (d_model, or d_head for
/// the phases of RoPE). Needs t ≥ 0 and t + k ≥ 0. With odd d the unpaired last dimension is
/// not rotated, so the difference there is not rounding.
OffsetCheck sinusoidalOffsetCheck(int t, int k, int d, float base = 10000.0f);

/// Rotary position embedding applied in place to x, (T, n_heads·d_head): inside every head
/// pair i of row t is rotated by angle (t + offset)·theta^(-2i/d_head). Pair i is the adjacent
/// dimensions (2i, 2i+1), as llama2.c does, or with RopePairs::Halves (i, i + d_head/2).
void applyRope(Eigen::MatrixXf& x, int d_head, float theta = 10000.0f, int offset = 0,
               RopePairs pairs = RopePairs::Adjacent);

/// The RoPE angle of pair i at position t: t·θ^(−2i/d_head) radians.
float ropeAngle(int t, int pair, int d_head, float theta = 10000.0f);

/// Every RoPE angle wrapped to one turn, [0, 2π): (positions, d_head/2), row = position t,
/// column = pair i. Wrapped because the raw angle of pair 0 grows so fast it hides the rest.
Eigen::MatrixXf ropeAngleTable(int positions, int d_head, float theta = 10000.0f);

}  // namespace attn
