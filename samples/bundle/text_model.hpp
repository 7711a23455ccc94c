// brine sample: a small text classifier whose vocabulary lives in a file next to its weights.
// The model, its training settings and the vocabulary file are saved together as one bundle
// (brine::save_bundle) that can be moved, copied to another machine, loaded by a program that
// knows only these registered types, and exported as a DDUF file.
#pragma once

#include <brine/brine.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace sample {

/// How the classifier was trained; saved in the bundle next to the model.
struct TrainingSettings {
  BRINE_TYPE("sample.TrainingSettings", 1);
  double smoothing = 1.0;          ///< Laplace smoothing of the word counts
  std::uint32_t min_count = 1;     ///< words seen fewer times are left out of the vocabulary
  std::string corpus = "builtin";  ///< where the training sentences came from

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("smoothing", smoothing)("min_count", min_count)("corpus", corpus);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("smoothing", smoothing)("min_count", min_count)("corpus", corpus);
  }
};

/// A multinomial naive Bayes classifier over bags of words. Its vocabulary is a text file (one
/// word per line, the row order of the weights): a brine::DataPath field, so a bundle carries
/// the file and the loaded model finds it wherever the bundle was moved.
class TextClassifier {
 public:
  BRINE_TYPE("sample.TextClassifier", 1);

  /// Trains on (sentence, label) pairs and writes the vocabulary to `vocabulary_file`.
  static TextClassifier train(const std::vector<std::pair<std::string, std::string>>& examples,
                              const TrainingSettings& settings,
                              const std::filesystem::path& vocabulary_file);

  /// The most likely label of `sentence`. Reads the vocabulary file on first use.
  std::string classify(const std::string& sentence) const;

  const std::vector<std::string>& labels() const noexcept { return labels_; }
  const brine::DataPath& vocabulary_file() const noexcept { return vocabulary_file_; }
  const brine::Tensor& weights() const noexcept { return log_likelihood_; }

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("labels", labels_)("log_prior", log_prior_)("log_likelihood", log_likelihood_)(
        "vocabulary", vocabulary_file_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("labels", labels_)("log_prior", log_prior_)("log_likelihood", log_likelihood_)(
        "vocabulary", vocabulary_file_);
    vocabulary_.clear();
  }

 private:
  const std::vector<std::string>& vocabulary() const;

  std::vector<std::string> labels_;
  std::vector<float> log_prior_;  ///< one per label
  brine::Tensor log_likelihood_;  ///< float32 [labels, words]
  brine::DataPath vocabulary_file_;
  mutable std::vector<std::string> vocabulary_;  ///< read from vocabulary_file_ when needed
};

/// The sentences the sample trains on.
std::vector<std::pair<std::string, std::string>> builtin_corpus();

/// Lower-case words of `sentence` (letters only).
std::vector<std::string> words_of(const std::string& sentence);

}  // namespace sample
