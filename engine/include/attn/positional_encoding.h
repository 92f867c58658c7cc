#pragma once
// Positional encodings: sinusoidal ("Attention Is All You Need"), learned, rotary, none.

#include <Eigen/Dense>
#include <string>

namespace attn {

enum class PositionalKind { Sinusoidal, Learned, Rope, None };

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

/// Rotary position embedding applied in place to x, (T, n_heads·d_head): inside every head
/// the adjacent pairs (2i, 2i+1) of row t are rotated by angle (t + offset)·theta^(-2i/d_head),
/// as llama2.c does.
void applyRope(Eigen::MatrixXf& x, int d_head, float theta = 10000.0f, int offset = 0);

/// The RoPE angle of pair i at position t, for the positional view.
float ropeAngle(int t, int pair, int d_head, float theta = 10000.0f);

}  // namespace attn
