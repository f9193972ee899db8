// Discovering the masks by EM over documents (discovery.hpp).
#include "simulacra/discovery.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include "byte_codec.hpp"
#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/kmeans.hpp"

namespace simulacra {

// ------------------------------------------------------------------ shards and block counts

struct DiscoveryShardBuilder {
  // The shard of documents [begin, end) of the predictive CSR (dbeg, dj, dcnt) over P predictive n-grams.
  static DiscoveryShard make(const std::vector<std::size_t>& dbeg, const std::vector<std::uint32_t>& dj,
                             const std::vector<std::uint32_t>& dcnt, const std::vector<std::uint8_t>& is_train,
                             std::size_t P, std::size_t begin, std::size_t end, int block) {
    DiscoveryShard s;
    s.begin_ = begin;
    s.block_documents_ = block;
    s.num_predictive_ = std::uint32_t(P);
    std::vector<std::uint32_t> local(P, DiscoveryShard::kNone);
    for (std::size_t i = dbeg[begin]; i < dbeg[end]; ++i) local[dj[i]] = 0;
    for (std::size_t j = 0; j < P; ++j)
      if (local[j] == 0) {
        local[j] = std::uint32_t(s.rows_.size());
        s.rows_.push_back(std::uint32_t(j));
      }
    s.dbeg_.reserve(end - begin + 1);
    s.dbeg_.push_back(0);
    s.dj_.reserve(dbeg[end] - dbeg[begin]);
    s.dcnt_.reserve(dbeg[end] - dbeg[begin]);
    for (std::size_t d = begin; d < end; ++d) {
      for (std::size_t i = dbeg[d]; i < dbeg[d + 1]; ++i) {
        s.dj_.push_back(local[dj[i]]);
        s.dcnt_.push_back(dcnt[i]);
      }
      s.dbeg_.push_back(s.dj_.size());
      s.train_.push_back(is_train[d]);
    }
    return s;
  }
};

namespace {

constexpr std::string_view kShardMagic = "SIMDSHD1";
constexpr std::string_view kBlocksMagic = "SIMDBLK1";

using detail::ByteReader;
using detail::put_varint;

}  // namespace

DiscoveryMatrix DiscoveryShard::loglik(const DiscoveryMatrix& log_theta) const {
  SIMULACRA_CHECK(log_theta.rows() == Eigen::Index(num_predictive_), InvalidArgument,
                  "DiscoveryShard.loglik: log_theta has {} rows, the shard's discovery {} predictive n-grams",
                  log_theta.rows(), num_predictive_);
  const Eigen::Index K = log_theta.cols();
  DiscoveryMatrix LL = DiscoveryMatrix::Zero(Eigen::Index(size()), K);
  InterruptPoller poll(64);
  for (std::size_t d = 0; d < size(); ++d) {
    poll.tick();
    double* out = LL.row(Eigen::Index(d)).data();
    for (std::size_t i = dbeg_[d]; i < dbeg_[d + 1]; ++i) {
      const double* lt = log_theta.row(rows_[dj_[i]]).data();
      const double n = double(dcnt_[i]);
      for (Eigen::Index k = 0; k < K; ++k) out[k] += n * lt[k];
    }
  }
  return LL;
}

std::vector<DiscoveryBlockCounts> DiscoveryShard::counts(const DiscoveryMatrix& responsibilities) const {
  const DiscoveryMatrix& R = responsibilities;
  SIMULACRA_CHECK(R.rows() == Eigen::Index(size()), InvalidArgument,
                  "DiscoveryShard.counts: {} rows of responsibilities for a shard of {} documents", R.rows(), size());
  const Eigen::Index K = R.cols();
  const auto B = std::size_t(block_documents_);
  std::vector<double> acc(rows_.size() * std::size_t(K), 0.0);
  std::vector<std::uint8_t> mark(rows_.size(), 0);
  std::vector<std::uint32_t> touched;
  std::vector<DiscoveryBlockCounts> out;
  for (std::size_t d0 = 0; d0 < size(); d0 += B) {
    poll_interrupt();
    for (std::size_t d = d0; d < std::min(d0 + B, size()); ++d) {
      if (!train_[d]) continue;
      const double* r = R.row(Eigen::Index(d)).data();
      for (std::size_t i = dbeg_[d]; i < dbeg_[d + 1]; ++i) {
        const std::uint32_t row = dj_[i];
        if (!mark[row]) mark[row] = 1, touched.push_back(row);
        double* c = acc.data() + std::size_t(row) * std::size_t(K);
        const double n = double(dcnt_[i]);
        for (Eigen::Index k = 0; k < K; ++k) c[k] += n * r[k];
      }
    }
    if (touched.empty()) continue;
    std::sort(touched.begin(), touched.end());
    DiscoveryBlockCounts block;
    block.block = (begin_ + d0) / B;
    block.rows.reserve(touched.size());
    block.values.reserve(touched.size() * std::size_t(K));
    for (std::uint32_t row : touched) {
      block.rows.push_back(rows_[row]);
      double* c = acc.data() + std::size_t(row) * std::size_t(K);
      block.values.insert(block.values.end(), c, c + K);
      std::fill(c, c + K, 0.0);
      mark[row] = 0;
    }
    touched.clear();
    out.push_back(std::move(block));
  }
  return out;
}

std::string DiscoveryShard::to_bytes() const {
  std::string out(kShardMagic);
  put_varint(out, begin_);
  put_varint(out, std::uint64_t(block_documents_));
  put_varint(out, num_predictive_);
  put_varint(out, rows_.size());
  std::uint32_t prev = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i) put_varint(out, rows_[i] - (i ? prev + 1 : 0)), prev = rows_[i];
  put_varint(out, size());
  for (std::size_t d = 0; d < size(); ++d) {
    put_varint(out, train_[d]);
    put_varint(out, dbeg_[d + 1] - dbeg_[d]);
    for (std::size_t i = dbeg_[d]; i < dbeg_[d + 1]; ++i) put_varint(out, dj_[i]), put_varint(out, dcnt_[i]);
  }
  return out;
}

DiscoveryShard DiscoveryShard::from_bytes(std::string_view bytes) {
  ByteReader in(bytes, "discovery shard");
  in.expect(kShardMagic, "DiscoveryShard");
  DiscoveryShard s;
  s.begin_ = in.varint("the first document");
  s.block_documents_ = int(in.bounded("the block size", std::uint64_t(std::numeric_limits<int>::max())));
  SIMULACRA_CHECK(s.block_documents_ >= 1 && s.begin_ % std::uint64_t(s.block_documents_) == 0, FileError,
                  "discovery shard: it begins at document {}, not a block of {}", s.begin_, s.block_documents_);
  s.num_predictive_ = std::uint32_t(in.bounded("the predictive n-grams", kNone - 1));
  const std::uint64_t rows = in.bounded("the rows", std::min<std::uint64_t>(s.num_predictive_, in.remaining()));
  s.rows_.resize(rows);
  std::uint64_t next = 0;
  for (std::uint64_t i = 0; i < rows; ++i) {
    next += in.varint("a row");
    SIMULACRA_CHECK(next < s.num_predictive_, FileError, "discovery shard: row {} is not below {}", next,
                    s.num_predictive_);
    s.rows_[i] = std::uint32_t(next++);
  }
  const std::uint64_t docs = in.bounded("the documents", in.remaining());
  s.dbeg_.reserve(docs + 1);
  s.dbeg_.push_back(0);
  for (std::uint64_t d = 0; d < docs; ++d) {
    s.train_.push_back(std::uint8_t(in.bounded("a training flag", 1)));
    const std::uint64_t entries = in.bounded("a document's entries", in.remaining() / 2);
    SIMULACRA_CHECK(entries >= 1, FileError, "discovery shard: document {} has no n-grams", d);
    for (std::uint64_t i = 0; i < entries; ++i) {
      s.dj_.push_back(std::uint32_t(in.bounded("an entry", rows ? rows - 1 : 0)));
      SIMULACRA_CHECK(rows > 0, FileError, "discovery shard: an entry without rows");
      s.dcnt_.push_back(std::uint32_t(in.bounded("a multiplicity", kNone - 1)));
    }
    s.dbeg_.push_back(s.dj_.size());
  }
  in.end();
  return s;
}

std::string block_counts_to_bytes(const std::vector<DiscoveryBlockCounts>& blocks) {
  std::string out(kBlocksMagic);
  put_varint(out, blocks.size());
  for (const DiscoveryBlockCounts& b : blocks) {
    const std::size_t K = b.rows.empty() ? 0 : b.values.size() / b.rows.size();
    SIMULACRA_CHECK(b.values.size() == K * b.rows.size(), InvalidArgument,
                    "block_counts_to_bytes: block {} has {} values for {} rows", b.block, b.values.size(),
                    b.rows.size());
    put_varint(out, b.block);
    put_varint(out, b.rows.size());
    put_varint(out, K);
    std::uint32_t prev = 0;
    for (std::size_t i = 0; i < b.rows.size(); ++i) put_varint(out, b.rows[i] - (i ? prev + 1 : 0)), prev = b.rows[i];
    const std::size_t at = out.size();
    out.resize(at + 8 * b.values.size());
    if (!b.values.empty()) std::memcpy(&out[at], b.values.data(), 8 * b.values.size());
  }
  return out;
}

std::vector<DiscoveryBlockCounts> block_counts_from_bytes(std::string_view bytes) {
  ByteReader in(bytes, "discovery block counts");
  in.expect(kBlocksMagic, "DiscoveryBlockCounts");
  const std::uint64_t n = in.bounded("the blocks", in.remaining());
  std::vector<DiscoveryBlockCounts> out(n);
  for (DiscoveryBlockCounts& b : out) {
    b.block = in.varint("a block");
    const std::uint64_t rows = in.bounded("the rows", in.remaining());
    const std::uint64_t K = in.bounded("the masks", rows ? in.remaining() / 8 / rows : 0);
    b.rows.resize(rows);
    std::uint64_t next = 0;
    for (std::uint64_t i = 0; i < rows; ++i) {
      next += in.varint("a row");
      SIMULACRA_CHECK(next < std::uint64_t(DiscoveryShard::kNone), FileError,
                      "discovery block counts: row {} too large", next);
      b.rows[i] = std::uint32_t(next++);
    }
    SIMULACRA_CHECK(in.remaining() / 8 >= rows * K, FileError, "discovery block counts: truncated values");
    b.values.resize(rows * K);
    for (double& v : b.values) v = in.real();
  }
  in.end();
  return out;
}

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// What every K and every restart share: the split, the counts, and the
// predictive n-grams in a compact numbering.
struct Data {
  Data(const std::vector<std::string>& documents, int order) : docs(documents), counts(documents, order) {}

  const std::vector<std::string>& docs;
  DocumentNGrams counts;
  std::vector<int> train, heldout;  // document indices, sorted
  SparseProfiles profiles;          // (train) k-means profiles

  // Predictive n-grams j = 0..P-1 (each the n-gram predicting some token) and their contexts c = 0..C-1.
  std::vector<std::uint32_t> pnode;   // (P) global node id
  std::vector<std::uint32_t> pctx;    // (P) context index
  std::vector<std::uint32_t> cnode;   // (C) global node id of each context
  std::vector<std::size_t> dbeg;      // (N + 1) CSR of the documents over predictive n-grams
  std::vector<std::uint32_t> dj, dcnt;  // (cleared once the shards are made)
  std::vector<std::uint8_t> is_train;   // (N)
  int block_documents = 1;
  std::vector<std::uint64_t> train_blocks;  // the blocks holding a training document, ascending

  // Where the E-step and the counting run: the executor, or the one local shard.
  const DiscoveryExecutor* executor = nullptr;
  std::vector<DiscoveryShard> local;

  // Dirichlet: the background and the prior's pseudo-counts.
  NGramPersona background;
  std::vector<double> mub;   // (P) mu B(w | h')
  std::vector<double> rest;  // (C) mu (1 - sum_{w child} B(w | h')): the pseudo-counts of unseen continuations
};

// The level and the index within it of global node g.
std::pair<std::size_t, std::uint32_t> locate(const DocumentNGrams& counts, std::uint32_t g) {
  std::size_t n = 0;
  while (n + 1 <= std::size_t(counts.order()) && counts.level_begin(int(n) + 1) <= g) ++n;
  return {n, g - counts.level_begin(int(n))};
}

void index_predictive(Data& data) {
  const DocumentNGrams& c = data.counts;
  std::vector<std::int64_t> pidx(c.num_nodes(), -1), cidx(c.num_nodes(), -1);
  const std::size_t N = c.num_documents();
  data.dbeg.assign(N + 1, 0);
  for (std::size_t d = 0; d < N; ++d) {
    for (std::size_t i = c.doc_begin(d); i < c.doc_begin(d + 1); ++i) {
      const std::uint32_t g = c.node(i);
      if (pidx[g] < 0) {
        pidx[g] = std::int64_t(data.pnode.size());
        data.pnode.push_back(g);
        const std::uint32_t h = c.parent(g);
        if (cidx[h] < 0) {
          cidx[h] = std::int64_t(data.cnode.size());
          data.cnode.push_back(h);
        }
        data.pctx.push_back(std::uint32_t(cidx[h]));
      }
      data.dj.push_back(std::uint32_t(pidx[g]));
      data.dcnt.push_back(c.count(i));
    }
    data.dbeg[d + 1] = data.dj.size();
  }
}

void prepare_dirichlet(Data& data, double mu) {
  std::vector<double> w(data.docs.size(), 0.0);
  for (int d : data.train) w[std::size_t(d)] = 1.0;
  data.background = data.counts.fit(w, {WeightedSmoothing::kDirichlet, mu});
  const std::vector<double> pb = data.counts.node_probabilities(data.background);
  data.mub.resize(data.pnode.size());
  std::vector<double> bsum(data.cnode.size(), 0.0);
  for (std::size_t j = 0; j < data.pnode.size(); ++j) {
    const std::uint32_t g = data.pnode[j];
    const double b = data.counts.order() == 1 ? 1.0 / kVocab : pb[data.counts.suffix(g)];  // order 1: the uniform p_0
    data.mub[j] = mu * b;
    bsum[data.pctx[j]] += b;
  }
  data.rest.resize(data.cnode.size());
  for (std::size_t c = 0; c < data.cnode.size(); ++c) data.rest[c] = mu * std::max(1.0 - bsum[c], 0.0);
}

// (P, K) sum_{d train} r_dk n_d(j): the block counts (of the local shard or the executor's) added to zero in
// block order.
RowMatrix expected_counts(const Data& data, const RowMatrix& R) {
  std::vector<DiscoveryBlockCounts> blocks =
      data.executor == nullptr ? data.local.front().counts(R) : data.executor->counts(R);
  std::sort(blocks.begin(), blocks.end(),
            [](const DiscoveryBlockCounts& a, const DiscoveryBlockCounts& b) { return a.block < b.block; });
  SIMULACRA_CHECK(blocks.size() == data.train_blocks.size(), InvalidArgument,
                  "discover: {} block counts for {} blocks of training documents", blocks.size(),
                  data.train_blocks.size());
  const Eigen::Index K = R.cols();
  const auto P = Eigen::Index(data.pnode.size());
  RowMatrix C = RowMatrix::Zero(P, K);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const DiscoveryBlockCounts& block = blocks[b];
    SIMULACRA_CHECK(block.block == data.train_blocks[b], InvalidArgument,
                    "discover: block counts of block {} where block {} was expected", block.block,
                    data.train_blocks[b]);
    SIMULACRA_CHECK(block.values.size() == block.rows.size() * std::size_t(K), InvalidArgument,
                    "discover: block {} has {} values for {} rows of {} masks", block.block, block.values.size(),
                    block.rows.size(), K);
    for (std::size_t i = 0; i < block.rows.size(); ++i) {
      SIMULACRA_CHECK(block.rows[i] < std::uint64_t(P), InvalidArgument,
                      "discover: block {} counts n-gram {} of {}", block.block, block.rows[i], P);
      double* c = C.row(block.rows[i]).data();
      const double* v = block.values.data() + i * std::size_t(K);
      for (Eigen::Index k = 0; k < K; ++k) c[k] += v[k];
    }
  }
  return C;
}

// The parameters of one M-step.
struct Params {
  Eigen::VectorXd log_prior;    // (K) log pi
  RowMatrix log_theta;          // (P, K) log p_k(w | h) of each predictive n-gram
  RowMatrix C, S;               // Dirichlet: (P, K) expected counts, (C, K) their context totals
  double prior_term = 0.0;      // Dirichlet: sum_k sum_h log Dir(theta_kh) + const
  std::vector<NGramPersona> personas;  // expected Kneser-Ney: the fitted models
};

Params m_step(const Data& data, const RowMatrix& R, const DiscoveryConfig& cfg) {
  const Eigen::Index K = R.cols();
  const auto P = Eigen::Index(data.pnode.size());
  Params p;
  Eigen::VectorXd pi = Eigen::VectorXd::Zero(K);
  for (int d : data.train) pi += R.row(d).transpose();
  pi /= double(data.train.size());
  p.log_prior = pi.array().log();
  p.log_theta.resize(P, K);
  if (cfg.smoothing.smoothing == WeightedSmoothing::kDirichlet) {
    const double mu = cfg.smoothing.mu;
    p.C = expected_counts(data, R);
    poll_interrupt();
    p.S = RowMatrix::Zero(Eigen::Index(data.cnode.size()), K);
    for (Eigen::Index j = 0; j < P; ++j) p.S.row(data.pctx[std::size_t(j)]) += p.C.row(j);
    RowMatrix log_total = (p.S.array() + mu).log().matrix();
    double prior = 0.0;
    for (Eigen::Index j = 0; j < P; ++j) {
      const double mub = data.mub[std::size_t(j)];
      const double* lt = log_total.row(data.pctx[std::size_t(j)]).data();
      for (Eigen::Index k = 0; k < K; ++k) {
        const double lth = std::log(p.C(j, k) + mub) - lt[k];
        p.log_theta(j, k) = lth;
        prior += mub * lth;
      }
    }
    const double log_mu = std::log(mu);
    for (std::size_t c = 0; c < data.cnode.size(); ++c)
      for (Eigen::Index k = 0; k < K; ++k) prior += data.rest[c] * (log_mu - log_total(Eigen::Index(c), k));
    p.prior_term = prior;
  } else {
    std::vector<double> w(data.docs.size(), 0.0);
    for (Eigen::Index k = 0; k < K; ++k) {
      for (int d : data.train) w[std::size_t(d)] = std::min(std::max(R(d, k), 0.0), 1.0);
      p.personas.push_back(data.counts.fit(w, cfg.smoothing));
      const std::vector<double> prob = data.counts.node_probabilities(p.personas.back());
      for (Eigen::Index j = 0; j < P; ++j) p.log_theta(j, k) = std::log(prob[data.pnode[std::size_t(j)]]);
    }
  }
  return p;
}

// (N, K) log p_k(d) of every document: the shards' E-step, here or through the executor.
RowMatrix document_loglik(const Data& data, const Params& p) {
  if (data.executor == nullptr) return data.local.front().loglik(p.log_theta);
  RowMatrix LL = data.executor->loglik(p.log_theta);
  SIMULACRA_CHECK(LL.rows() == Eigen::Index(data.docs.size()) && LL.cols() == p.log_theta.cols(), InvalidArgument,
                  "discover: the executor's loglik gave ({}, {}), expected ({}, {})", LL.rows(), LL.cols(),
                  data.docs.size(), p.log_theta.cols());
  return LL;
}

int argmax(const double* a, Eigen::Index K) {
  int best = 0;
  for (Eigen::Index k = 1; k < K; ++k)
    if (a[k] > a[best]) best = int(k);
  return best;
}

// The iterations of the annealing ramp (discovery.hpp): b_t < beta for t <= H.
int anneal_iterations(const DiscoveryConfig& cfg) { return cfg.anneal == 1.0 ? 0 : cfg.iterations / 2; }

// Responsibilities of every document given its log-likelihoods, tempered by beta.
RowMatrix e_step(const RowMatrix& LL, const Eigen::VectorXd& log_prior, double beta, bool hard) {
  const Eigen::Index K = LL.cols();
  RowMatrix R = RowMatrix::Zero(LL.rows(), K);
  std::vector<double> a(static_cast<std::size_t>(K));
  for (Eigen::Index d = 0; d < LL.rows(); ++d) {
    for (Eigen::Index k = 0; k < K; ++k) a[std::size_t(k)] = log_prior[k] + beta * LL(d, k);
    if (hard) {
      R(d, argmax(a.data(), K)) = 1.0;
    } else {
      const double z = log_sum_exp(a.data(), int(K));
      for (Eigen::Index k = 0; k < K; ++k) R(d, k) = std::exp(a[std::size_t(k)] - z);
    }
  }
  return R;
}

double mixture_loglik(const RowMatrix& LL, const Eigen::VectorXd& log_prior, const std::vector<int>& docs) {
  const Eigen::Index K = LL.cols();
  std::vector<double> a(static_cast<std::size_t>(K));
  double total = 0.0;
  for (int d : docs) {
    for (Eigen::Index k = 0; k < K; ++k) a[std::size_t(k)] = log_prior[k] + LL(d, k);
    total += log_sum_exp(a.data(), int(K));
  }
  return total;
}

struct Run {
  RowMatrix fit_R;   // the responsibilities of the last M-step
  RowMatrix R;       // the responsibilities under the last parameters
  std::vector<double> loglik, objective;
  double heldout = 0.0;
  double score = -INFINITY;
};

Run run_em(const Data& data, RowMatrix R, int k, int restart, const DiscoveryConfig& cfg) {
  Run run;
  for (int it = 1; it <= cfg.iterations; ++it) {
    const Params p = m_step(data, R, cfg);
    const RowMatrix LL = document_loglik(data, p);
    const double L = mixture_loglik(LL, p.log_prior, data.train);
    double F = L + p.prior_term;
    if (cfg.hard) {
      F = p.prior_term;
      for (int d : data.train) {
        const int z = argmax(R.row(d).data(), R.cols());
        F += p.log_prior[z] + LL(d, z);
      }
    }
    run.loglik.push_back(L);
    run.objective.push_back(F);
    run.fit_R = std::move(R);
    R = e_step(LL, p.log_prior, discovery_beta(cfg, it), cfg.hard);
    run.heldout = mixture_loglik(LL, p.log_prior, data.heldout);
    if (cfg.on_progress) cfg.on_progress({k, restart, it, L});
    const std::size_t t = run.objective.size();
    // |change| (not gain): with tempering (beta != 1) the objective may fall, and EM goes on. Not while
    // annealing: the two objectives compared must both follow E-steps at beta.
    const int H = anneal_iterations(cfg);
    if (t >= 2 && (H == 0 || it > H + 2) &&
        std::abs(run.objective[t - 1] - run.objective[t - 2]) <= cfg.tolerance * std::abs(run.objective[t - 1]))
      break;
  }
  run.R = std::move(R);
  run.score = data.heldout.empty() ? run.objective.back() : run.heldout;
  return run;
}

std::vector<std::shared_ptr<const Persona>> personas_of(const Data& data, const Run& run, const DiscoveryConfig& cfg) {
  Params p = m_step(data, run.fit_R, cfg);
  std::vector<std::shared_ptr<const Persona>> out;
  const Eigen::Index K = run.fit_R.cols();
  if (cfg.smoothing.smoothing != WeightedSmoothing::kDirichlet) {
    for (NGramPersona& lm : p.personas) out.push_back(std::make_shared<NGramPersona>(std::move(lm)));
    return out;
  }
  const double mu = cfg.smoothing.mu;
  std::vector<std::pair<std::size_t, std::uint32_t>> at_p, at_c;
  for (std::uint32_t g : data.pnode) at_p.push_back(locate(data.counts, g));
  for (std::uint32_t g : data.cnode) at_c.push_back(locate(data.counts, g));
  for (Eigen::Index k = 0; k < K; ++k) {
    std::vector<NGramPersona::Level> levels = data.background.levels();
    for (std::size_t j = 0; j < at_p.size(); ++j)
      levels[at_p[j].first].node[at_p[j].second].disc = p.C(Eigen::Index(j), k) / (p.S(data.pctx[j], k) + mu);
    for (std::size_t c = 0; c < at_c.size(); ++c)
      levels[at_c[c].first].node[at_c[c].second].gamma = mu / (p.S(Eigen::Index(c), k) + mu);
    std::vector<Discounts> zero(std::size_t(data.counts.order()), Discounts{0.0, 0.0, 0.0, false});
    out.push_back(std::make_shared<NGramPersona>(NGramPersona::from_levels(data.counts.order(), std::move(levels), std::move(zero))));
  }
  return out;
}

void check_config(const DiscoveryConfig& cfg, std::size_t N) {
  NGramPersona::check_order(cfg.order, "discover");
  check_weighted_config(cfg.smoothing, "discover");
  SIMULACRA_CHECK(cfg.iterations >= 1, InvalidArgument, "discover: iterations must be >= 1, got {}", cfg.iterations);
  SIMULACRA_CHECK(std::isfinite(cfg.tolerance) && cfg.tolerance >= 0.0, InvalidArgument,
                  "discover: tolerance must be finite and >= 0, got {}", cfg.tolerance);
  SIMULACRA_CHECK(cfg.restarts >= 1, InvalidArgument, "discover: restarts must be >= 1, got {}", cfg.restarts);
  SIMULACRA_CHECK(cfg.beta > 0.0 && cfg.beta <= MixtureConfig::kMaxBeta, InvalidArgument,
                  "discover: beta must be in (0, {}], got {}", MixtureConfig::kMaxBeta, cfg.beta);
  SIMULACRA_CHECK(cfg.anneal > 0.0 && cfg.anneal <= 1.0, InvalidArgument, "discover: anneal must be in (0, 1], got {}",
                  cfg.anneal);
  SIMULACRA_CHECK(std::isfinite(cfg.heldout_fraction) && cfg.heldout_fraction >= 0.0 && cfg.heldout_fraction < 1.0,
                  InvalidArgument, "discover: heldout_fraction must be in [0, 1), got {}", cfg.heldout_fraction);
  SIMULACRA_CHECK(cfg.kmeans_restarts >= 1, InvalidArgument, "discover: kmeans_restarts must be >= 1, got {}",
                  cfg.kmeans_restarts);
  SIMULACRA_CHECK(cfg.kmeans_iterations >= 1, InvalidArgument, "discover: kmeans_iterations must be >= 1, got {}",
                  cfg.kmeans_iterations);
  SIMULACRA_CHECK(cfg.block_documents >= 1, InvalidArgument, "discover: block_documents must be >= 1, got {}",
                  cfg.block_documents);
  const DiscoveryExecutor& e = cfg.executor;
  SIMULACRA_CHECK(!e.active() || (e.distribute && e.loglik && e.counts), InvalidArgument,
                  "discover: an executor needs distribute, loglik and counts");
  SIMULACRA_CHECK(!e.active() || e.shards >= 1, InvalidArgument,
                  "discover: the executor's shards must be >= 1, got {}", e.shards);
  SIMULACRA_CHECK(N > 0, InvalidArgument, "discover: no documents");
}

// The held-out split: round(fraction * N) documents (at least 1 when the
// fraction is positive), leaving at least max_k for training.
void split(Data& data, double fraction, std::uint64_t seed, int max_k) {
  const std::size_t N = data.docs.size();
  std::size_t held = std::size_t(std::llround(fraction * double(N)));
  if (fraction > 0.0 && held == 0) held = 1;
  held = std::min(held, N > std::size_t(max_k) ? N - std::size_t(max_k) : 0);
  std::vector<int> perm(N);
  for (std::size_t i = 0; i < N; ++i) perm[i] = int(i);
  std::uint64_t state = seed ^ 0xD15C0E11ull;
  for (std::size_t i = N; i > 1; --i) std::swap(perm[i - 1], perm[detail::splitmix64(state) % i]);
  data.heldout.assign(perm.begin(), perm.begin() + std::ptrdiff_t(held));
  data.train.assign(perm.begin() + std::ptrdiff_t(held), perm.end());
  std::sort(data.heldout.begin(), data.heldout.end());
  std::sort(data.train.begin(), data.train.end());
}

Discovery discover_k(const Data& data, int k, const DiscoveryConfig& cfg) {
  SIMULACRA_CHECK(k >= 1 && std::size_t(k) <= data.train.size(), InvalidArgument,
                  "discover: k must be in 1..{} (the training documents), got {}", data.train.size(), k);
  std::vector<std::string> names = cfg.names;
  if (names.empty())
    for (int i = 0; i < k; ++i) names.push_back(fmt::format("mask{}", i));
  SIMULACRA_CHECK(names.size() == std::size_t(k), InvalidArgument, "discover: {} names for k = {}", names.size(), k);
  const auto N = Eigen::Index(data.docs.size());
  Run best;
  int best_restart = 0;
  bool best_annealed = false;
  std::vector<double> scores;
  std::uint64_t state = cfg.seed;
  const int restarts = cfg.initial_responsibilities.size() > 0 ? 1 : cfg.restarts;
  for (int r = 0; r < restarts; ++r) {
    RowMatrix R = RowMatrix::Zero(N, k);
    if (cfg.initial_responsibilities.size() > 0) {
      R = cfg.initial_responsibilities;
    } else {
      KMeansConfig km;
      km.k = k;
      km.restarts = cfg.kmeans_restarts;
      km.max_iterations = cfg.kmeans_iterations;
      km.seed = detail::splitmix64(state);
      std::vector<int> z = kmeans(data.profiles, km).assignments;
      fill_empty_clusters(z, k, state);  // a mask the start left empty takes a document of the largest
      for (std::size_t i = 0; i < data.train.size(); ++i) R(data.train[i], z[i]) = 1.0;
    }
    // Annealing can also lose a start that was right (masks merge while the tempering is low, on short,
    // separable documents): each start runs EM plain as well, and the better score is the start's.
    Run run = cfg.anneal < 1.0 ? run_em(data, R, k, r, cfg) : run_em(data, std::move(R), k, r, cfg);
    bool annealed = cfg.anneal < 1.0;
    if (annealed) {
      DiscoveryConfig plain_cfg = cfg;
      plain_cfg.anneal = 1.0;
      Run plain = run_em(data, std::move(R), k, r, plain_cfg);
      if (plain.score > run.score) run = std::move(plain), annealed = false;
    }
    scores.push_back(run.score);
    if (r == 0 || run.score > best.score) {
      best = std::move(run);
      best_restart = r;
      best_annealed = annealed;
    }
  }
  const RowMatrix& R = best.R;
  Eigen::VectorXd prior = Eigen::VectorXd::Zero(k);
  for (int d : data.train) prior += best.fit_R.row(d).transpose();
  Mixture mix(personas_of(data, best, cfg), names, prior);
  if (cfg.beta >= 1e-6 && cfg.beta <= 1e6) mix.set_attribution_beta(cfg.beta);
  Discovery out(std::move(mix));
  out.responsibilities = R;
  for (Eigen::Index d = 0; d < N; ++d) out.assignments.push_back(argmax(R.row(d).data(), k));
  out.log_likelihoods = best.loglik;
  out.objective = best.objective;
  out.heldout_log_likelihood = best.heldout;
  out.heldout = data.heldout;
  out.restart_scores = scores;
  out.restart = best_restart;
  out.annealed = best_annealed;
  out.k = k;
  out.k_values = {k};
  if (!data.heldout.empty()) out.heldout_by_k = {best.heldout};
  return out;
}

// The documents as shards of whole blocks: one here, or the executor's number handed to it.
void make_shards(Data& data, const DiscoveryConfig& cfg) {
  const std::size_t N = data.docs.size(), B = std::size_t(cfg.block_documents);
  data.block_documents = cfg.block_documents;
  data.is_train.assign(N, 0);
  for (int d : data.train) data.is_train[std::size_t(d)] = 1;
  for (int d : data.train)
    if (data.train_blocks.empty() || data.train_blocks.back() != std::uint64_t(d) / B)
      data.train_blocks.push_back(std::uint64_t(d) / B);
  const std::size_t P = data.pnode.size();
  if (!cfg.executor.active()) {
    data.local.push_back(
        DiscoveryShardBuilder::make(data.dbeg, data.dj, data.dcnt, data.is_train, P, 0, N, cfg.block_documents));
  } else {
    const std::size_t blocks = (N + B - 1) / B;
    const std::size_t S = std::min(blocks, std::size_t(cfg.executor.shards));
    std::vector<DiscoveryShard> shards;
    for (std::size_t s = 0; s < S; ++s) {
      const std::size_t b0 = blocks * s / S, b1 = blocks * (s + 1) / S;
      shards.push_back(DiscoveryShardBuilder::make(data.dbeg, data.dj, data.dcnt, data.is_train, P, b0 * B,
                                                   std::min(b1 * B, N), cfg.block_documents));
    }
    data.executor = &cfg.executor;
    cfg.executor.distribute(std::move(shards));
  }
  data.dbeg = {};
  data.dj = {};
  data.dcnt = {};
}

std::unique_ptr<Data> prepare(const std::vector<std::string>& documents, const DiscoveryConfig& cfg, int max_k) {
  check_config(cfg, documents.size());
  auto data = std::make_unique<Data>(documents, cfg.order);
  split(*data, cfg.heldout_fraction, cfg.seed, max_k);
  if (cfg.initial_responsibilities.size() > 0) {
    const Eigen::MatrixXd& R0 = cfg.initial_responsibilities;
    SIMULACRA_CHECK(R0.rows() == Eigen::Index(documents.size()) && R0.cols() == max_k, InvalidArgument,
                    "discover: initial_responsibilities is ({}, {}), expected ({}, {})", R0.rows(), R0.cols(),
                    documents.size(), max_k);
    for (Eigen::Index d = 0; d < R0.rows(); ++d) {
      SIMULACRA_CHECK(R0.row(d).allFinite() && R0.row(d).minCoeff() >= 0.0 && std::abs(R0.row(d).sum() - 1.0) <= 1e-9,
                      InvalidArgument, "discover: row {} of initial_responsibilities is not a probability vector", d);
    }
  } else {
    std::vector<std::string> train_docs;
    for (int d : data->train) train_docs.push_back(documents[std::size_t(d)]);
    data->profiles = ngram_profiles(train_docs, cfg.profiles);
  }
  index_predictive(*data);
  make_shards(*data, cfg);
  if (cfg.smoothing.smoothing == WeightedSmoothing::kDirichlet) prepare_dirichlet(*data, cfg.smoothing.mu);
  return data;
}

}  // namespace

double discovery_beta(const DiscoveryConfig& config, int iteration) {
  SIMULACRA_CHECK(iteration >= 1, InvalidArgument, "discovery_beta: iteration must be >= 1, got {}", iteration);
  SIMULACRA_CHECK(config.anneal > 0.0 && config.anneal <= 1.0, InvalidArgument,
                  "discovery_beta: anneal must be in (0, 1], got {}", config.anneal);
  const int H = anneal_iterations(config);
  if (iteration > H) return config.beta;
  return config.beta * std::pow(config.anneal, 1.0 - double(iteration - 1) / double(H));
}

Discovery discover(const std::vector<std::string>& documents, int k, const DiscoveryConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  SIMULACRA_CHECK(k >= 1, InvalidArgument, "discover: k must be >= 1, got {}", k);
  const auto data = prepare(documents, config, k);
  Discovery out = discover_k(*data, k, config);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Discovery discover(const std::vector<std::string>& documents, const std::vector<int>& k_values,
                   const DiscoveryConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  SIMULACRA_CHECK(!k_values.empty(), InvalidArgument, "discover: no values of k to try");
  for (int k : k_values) SIMULACRA_CHECK(k >= 1, InvalidArgument, "discover: k must be >= 1, got {}", k);
  SIMULACRA_CHECK(k_values.size() == 1 || config.names.empty(), InvalidArgument,
                  "discover: names cannot be given for a range of k");
  SIMULACRA_CHECK(k_values.size() == 1 || config.initial_responsibilities.size() == 0, InvalidArgument,
                  "discover: initial_responsibilities cannot be given for a range of k");
  const int max_k = *std::max_element(k_values.begin(), k_values.end());
  const auto data = prepare(documents, config, max_k);
  SIMULACRA_CHECK(k_values.size() == 1 || !data->heldout.empty(), InvalidArgument,
                  "discover: choosing k needs held-out documents (heldout_fraction > 0 and more than {} documents)",
                  max_k);
  std::vector<double> by_k;
  std::unique_ptr<Discovery> best;
  for (int k : k_values) {
    Discovery d = discover_k(*data, k, config);
    by_k.push_back(d.heldout_log_likelihood);
    if (!best || d.heldout_log_likelihood > best->heldout_log_likelihood ||
        (d.heldout_log_likelihood == best->heldout_log_likelihood && k < best->k))
      best = std::make_unique<Discovery>(std::move(d));
  }
  best->k_values = k_values;
  best->heldout_by_k = data->heldout.empty() ? std::vector<double>{} : by_k;
  best->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(*best);
}

}  // namespace simulacra
