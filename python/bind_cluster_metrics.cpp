// bind_cluster_metrics.cpp — scores of discovered personas against labels
// (cluster_metrics.hpp): contingency table, NMI, ARI, purity, the Hungarian
// matching of personas to labels, boundary F1 of a segmentation.
#include "bind.hpp"
#include "bind_common.hpp"

namespace simulacra::python {

namespace {

// `obj` as a 1-D numpy array of integers (an empty sequence is allowed
// whatever its dtype). TypeError naming `what` for another dtype or a
// scalar, ValueError for another number of dimensions.
py::array integer_vector(py::handle obj, const char* what) {
  py::module_ np = py::module_::import("numpy");
  py::array a;
  try {
    a = np.attr("asarray")(obj);
  } catch (py::error_already_set&) {
    throw py::type_error(std::string(what) + ": expected a 1-D array of integers");
  }
  if (a.ndim() == 0) throw py::type_error(std::string(what) + ": expected a sequence of integers, got " + type_name(obj));
  if (a.ndim() != 1) throw py::value_error(std::string(what) + ": expected shape (n,), got " + shape_str(a));
  const char kind = py::str(a.dtype().attr("kind")).cast<std::string>()[0];
  if (a.size() > 0 && kind != 'i' && kind != 'u')
    throw py::type_error(std::string(what) + ": expected integers, got dtype " + std::string(py::str(a.dtype())));
  return a;
}

// The values of an integer vector as int64; ValueError naming `what` for an
// unsigned value beyond the int64 range.
std::vector<std::int64_t> int64_values(py::handle obj, const char* what) {
  const py::array a = integer_vector(obj, what);
  std::vector<std::int64_t> out(std::size_t(a.size()));
  if (a.size() == 0) return out;
  if (py::str(a.dtype().attr("kind")).cast<std::string>()[0] == 'u') {
    auto u = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!u) throw py::error_already_set();
    for (py::ssize_t i = 0; i < u.size(); ++i) {
      if (u.data()[i] > std::uint64_t(INT64_MAX))
        throw py::value_error(fmt::format("{}: value {} at position {} is too large", what, u.data()[i], i));
      out[std::size_t(i)] = std::int64_t(u.data()[i]);
    }
    return out;
  }
  auto d = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!d) throw py::error_already_set();
  std::copy(d.data(), d.data() + d.size(), out.begin());
  return out;
}

// Labels as ints. ValueError naming `what` for a label beyond int32 (the
// library names negative ones; those below int32 are passed as INT_MIN).
std::vector<int> labels_arg(py::handle obj, const char* what) {
  const std::vector<std::int64_t> v = int64_values(obj, what);
  std::vector<int> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] > INT_MAX)
      throw py::value_error(fmt::format("{}: label {} at position {} is beyond {}", what, v[i], i, INT_MAX));
    out[i] = v[i] < INT_MIN ? INT_MIN : int(v[i]);
  }
  return out;
}

// The two labelings of a score, read in argument order (so that an error
// names the first bad argument).
struct Labelings {
  std::vector<int> predicted, truth;
};

Labelings labelings(py::handle predicted, py::handle truth) {
  Labelings l;
  l.predicted = labels_arg(predicted, "predicted");
  l.truth = labels_arg(truth, "truth");
  return l;
}

// A fresh (R, C) int64 numpy copy of a count matrix.
py::array_t<std::int64_t> i64(const CountMatrix& m) {
  py::array_t<std::int64_t> out({py::ssize_t(m.rows()), py::ssize_t(m.cols())});
  auto o = out.mutable_unchecked<2>();
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) o(i, j) = m(i, j);
  return out;
}

py::array_t<std::int64_t> i64(const std::vector<std::int64_t>& v) {
  py::array_t<std::int64_t> out(py::ssize_t(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// `obj` as a float64 (R, C) matrix of any shape; TypeError / ValueError naming `what`.
Eigen::MatrixXd real_matrix(py::handle obj, const char* what) {
  py::module_ np = py::module_::import("numpy");
  py::array a;
  try {
    a = np.attr("asarray")(obj);
  } catch (py::error_already_set&) {
    throw py::type_error(std::string(what) + ": expected a 2-D array of real numbers");
  }
  if (a.ndim() != 2) throw py::value_error(std::string(what) + ": expected shape (R, C), got " + shape_str(a));
  return real_array(a, what, a.shape(0), a.shape(1), "(R, C)");
}

}  // namespace

void bind_cluster_metrics(py::module_& m) {
  // ---------------------------------------------------------------- labelings
  m.def(
      "contingency_table",
      [](py::handle predicted, py::handle truth) {
        const Labelings l = labelings(predicted, truth);
        return i64(contingency_table(l.predicted, l.truth));
      },
      py::arg("predicted"), py::arg("truth"),
      "(K, L) int64 counts, K = max(predicted) + 1, L = max(truth) + 1: entry (i, j) is the number of items with "
      "discovered persona i and true label j (rows and columns are label values). ValueError for lengths that "
      "differ, empty input, a negative label, or a table beyond 2**26 entries.");
  m.def(
      "normalized_mutual_info",
      [](py::handle predicted, py::handle truth) {
        const Labelings l = labelings(predicted, truth);
        return normalized_mutual_info(l.predicted, l.truth);
      },
      py::arg("predicted"), py::arg("truth"),
      "Normalised mutual information MI / ((H(U) + H(V)) / 2) of two labelings (natural logs; the arithmetic mean, "
      "scikit-learn's default normalisation), in [0, 1], symmetric. 1 when both have a single label; 0 when the "
      "mutual information is 0 otherwise (only one of them with a single label). Labels: any non-negative ints. "
      "ValueError for lengths that differ, empty input or a negative label.");
  m.def(
      "adjusted_rand_index",
      [](py::handle predicted, py::handle truth) {
        const Labelings l = labelings(predicted, truth);
        return adjusted_rand_index(l.predicted, l.truth);
      },
      py::arg("predicted"), py::arg("truth"),
      "Adjusted Rand index of two labelings (Hubert & Arabie): 1 for identical partitions, about 0 for independent "
      "ones, down to -0.5; symmetric; as scikit-learn's adjusted_rand_score. Checked as normalized_mutual_info.");
  m.def(
      "purity",
      [](py::handle predicted, py::handle truth) {
        const Labelings l = labelings(predicted, truth);
        return purity(l.predicted, l.truth);
      },
      py::arg("predicted"), py::arg("truth"),
      "Share of items whose discovered persona's most common true label is their own: (1/n) sum_i max_j n_ij. Not "
      "symmetric; 1 when every item is its own cluster. Checked as normalized_mutual_info.");

  // ---------------------------------------------------------------- matching
  m.def(
      "max_weight_assignment",
      [](py::handle weight) {
        const Eigen::MatrixXd w = real_matrix(weight, "weight");
        return i32(max_weight_assignment(w));
      },
      py::arg("weight"),
      "(R,) int32 the column of each row of weight (R, C), distinct, maximising the sum of the chosen entries; -1 "
      "for the R - C rows left out when R > C (Hungarian method, O(min^2 max)). ValueError for an empty matrix or a "
      "non-finite entry.");
  py::class_<PersonaMatch>(m, "PersonaMatch", R"doc(
Discovered personas matched one to one with true labels (match_personas),
maximising the items in matched pairs. K = max(predicted) + 1,
L = max(truth) + 1, N = max(K, L).
)doc")
      .def_property_readonly(
          "mapping", [](const PersonaMatch& p) { return i32(p.mapping); },
          "(K,) int32 the label matched to each discovered persona, -1 for one left unmatched (K > L).")
      .def_property_readonly(
          "order", [](const PersonaMatch& p) { return i32(p.order); },
          "(N,) int32 the discovered persona of each column of confusion: the one matched to label j for j < L, "
          "then the unmatched ones; -1 for a label no persona was matched to.")
      .def_property_readonly(
          "confusion", [](const PersonaMatch& p) { return i64(p.confusion); },
          "(N, N) int64 items with true label j (row) and discovered persona order[c] (column c): the matched pairs "
          "on the diagonal; zero rows j >= L and zero columns where order is -1.")
      .def_readonly("matched", &PersonaMatch::matched, "Items whose persona is matched to their label (the trace).")
      .def_readonly("accuracy", &PersonaMatch::accuracy, "matched / n.")
      .def("__repr__", [](const PersonaMatch& p) {
        const auto unmatched = std::count(p.mapping.begin(), p.mapping.end(), -1);
        return fmt::format("PersonaMatch(accuracy={:.4f}, matched={}, personas={}, labels={})", p.accuracy, p.matched,
                           p.mapping.size(), std::ptrdiff_t(p.order.size()) - unmatched);
      });
  m.def(
      "match_personas",
      [](py::handle predicted, py::handle truth) {
        const Labelings l = labelings(predicted, truth);
        return match_personas(l.predicted, l.truth);
      },
      py::arg("predicted"), py::arg("truth"),
      "The one-to-one matching of discovered personas to true labels maximising the items in matched pairs "
      "(Hungarian method on the contingency table): PersonaMatch with the mapping, the accuracy and the confusion "
      "matrix reordered. Checked as contingency_table.");

  // ---------------------------------------------------------------- segmentation
  py::class_<BoundaryScore>(m, "BoundaryScore", "Precision, recall and F1 of predicted boundaries (boundary_f1).")
      .def_readonly("precision", &BoundaryScore::precision, "matched / predicted (1 when nothing is predicted).")
      .def_readonly("recall", &BoundaryScore::recall, "matched / truth (1 when there is no true boundary).")
      .def_readonly("f1", &BoundaryScore::f1, "2 P R / (P + R) (0 when P + R = 0).")
      .def_readonly("matched", &BoundaryScore::matched, "Predicted boundaries paired with a true one.")
      .def_readonly("predicted", &BoundaryScore::predicted, "Predicted boundaries.")
      .def_readonly("truth", &BoundaryScore::truth, "True boundaries.")
      .def("__repr__", [](const BoundaryScore& s) {
        return fmt::format("BoundaryScore(precision={:.4f}, recall={:.4f}, f1={:.4f}, matched={}, predicted={}, "
                           "truth={})",
                           s.precision, s.recall, s.f1, s.matched, s.predicted, s.truth);
      });
  m.def(
      "boundary_f1",
      [](py::handle predicted, py::handle truth, std::int64_t tolerance) {
        const std::vector<std::int64_t> p = int64_values(predicted, "predicted");
        return boundary_f1(p, int64_values(truth, "truth"), tolerance);
      },
      py::arg("predicted"), py::arg("truth"), py::arg("tolerance") = 0,
      "Boundary precision, recall and F1 of a segmentation: boundaries are byte positions (any order); a predicted "
      "and a true one pair when |p - t| <= tolerance, each at most once, with as many pairs as possible (a maximum "
      "matching). Empty lists are allowed. ValueError for a negative tolerance or position, or a position given "
      "twice in one list.");
  m.def(
      "label_boundaries", [](py::handle labels) { return i64(label_boundaries(labels_arg(labels, "labels"))); },
      py::arg("labels"),
      "(m,) int64 the positions t >= 1 where labels[t] != labels[t - 1] (per-byte labels, e.g. Smoothed.dominant), "
      "increasing.");
}

}  // namespace simulacra::python
