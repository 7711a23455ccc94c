// brine sample: training and prediction of the text classifier, and its registration.
#include "text_model.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

BRINE_REGISTER(sample::TrainingSettings);
BRINE_REGISTER(sample::TextClassifier);

namespace sample {

std::vector<std::string> words_of(const std::string& sentence) {
  std::vector<std::string> words;
  std::string word;
  for (char c : sentence + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  return words;
}

TextClassifier TextClassifier::train(
    const std::vector<std::pair<std::string, std::string>>& examples,
    const TrainingSettings& settings, const std::filesystem::path& vocabulary_file) {
  // Sorted containers, so that the same corpus gives the same file and the same weights.
  std::map<std::string, std::uint32_t> word_count;
  std::map<std::string, std::size_t> label_index;
  for (const auto& [sentence, label] : examples) {
    label_index.emplace(label, 0);
    for (const auto& w : words_of(sentence)) ++word_count[w];
  }
  TextClassifier model;
  for (auto& [label, index] : label_index) {
    index = model.labels_.size();
    model.labels_.push_back(label);
  }
  std::map<std::string, std::size_t> word_index;
  for (const auto& [word, count] : word_count) {
    if (count < settings.min_count) continue;
    word_index.emplace(word, model.vocabulary_.size());
    model.vocabulary_.push_back(word);
  }

  const std::size_t n_labels = model.labels_.size();
  const std::size_t n_words = model.vocabulary_.size();
  std::vector<double> counts(n_labels * n_words, 0.0);
  std::vector<double> label_total(n_labels, 0.0);
  std::vector<double> label_examples(n_labels, 0.0);
  for (const auto& [sentence, label] : examples) {
    const std::size_t l = label_index.at(label);
    label_examples[l] += 1;
    for (const auto& w : words_of(sentence)) {
      auto it = word_index.find(w);
      if (it == word_index.end()) continue;
      counts[l * n_words + it->second] += 1;
      label_total[l] += 1;
    }
  }
  std::vector<float> log_likelihood(n_labels * n_words);
  for (std::size_t l = 0; l < n_labels; ++l) {
    model.log_prior_.push_back(
        static_cast<float>(std::log(label_examples[l] / static_cast<double>(examples.size()))));
    const double denominator = label_total[l] + settings.smoothing * static_cast<double>(n_words);
    for (std::size_t w = 0; w < n_words; ++w) {
      log_likelihood[l * n_words + w] = static_cast<float>(
          std::log((counts[l * n_words + w] + settings.smoothing) / denominator));
    }
  }
  model.log_likelihood_ = brine::Tensor::from_vector(
      std::move(log_likelihood),
      {static_cast<std::int64_t>(n_labels), static_cast<std::int64_t>(n_words)});

  std::filesystem::create_directories(vocabulary_file.parent_path());
  std::ofstream out(vocabulary_file, std::ios::binary | std::ios::trunc);
  for (const auto& word : model.vocabulary_) out << word << '\n';
  out.close();
  if (!out) throw std::runtime_error("cannot write " + vocabulary_file.string());
  model.vocabulary_file_ = brine::DataPath(vocabulary_file);
  return model;
}

const std::vector<std::string>& TextClassifier::vocabulary() const {
  if (vocabulary_.empty()) {
    std::ifstream in(vocabulary_file_.path(), std::ios::binary);
    if (!in)
      throw std::runtime_error("cannot read the vocabulary " + vocabulary_file_.path().string());
    for (std::string line; std::getline(in, line);) vocabulary_.push_back(line);
    const auto rows = log_likelihood_.shape();
    if (rows.size() != 2 || static_cast<std::size_t>(rows[1]) != vocabulary_.size()) {
      throw std::runtime_error("the vocabulary " + vocabulary_file_.path().string() + " has " +
                               std::to_string(vocabulary_.size()) +
                               " words, the weights another number");
    }
  }
  return vocabulary_;
}

std::string TextClassifier::classify(const std::string& sentence) const {
  const auto& vocab = vocabulary();
  const auto weights = log_likelihood_.values<float>();
  std::vector<double> score(log_prior_.begin(), log_prior_.end());
  for (const auto& w : words_of(sentence)) {
    auto it = std::lower_bound(vocab.begin(), vocab.end(), w);  // written sorted
    if (it == vocab.end() || *it != w) continue;
    const auto column = static_cast<std::size_t>(it - vocab.begin());
    for (std::size_t l = 0; l < labels_.size(); ++l) score[l] += weights[l * vocab.size() + column];
  }
  const auto best = std::max_element(score.begin(), score.end()) - score.begin();
  return labels_.at(static_cast<std::size_t>(best));
}

std::vector<std::pair<std::string, std::string>> builtin_corpus() {
  return {
      {"the striker scored a late goal and the crowd cheered", "sport"},
      {"the keeper saved a penalty in the final minute", "sport"},
      {"our team won the match after extra time", "sport"},
      {"the coach praised the defence after the game", "sport"},
      {"she ran the marathon in under three hours", "sport"},
      {"the referee showed a red card to the captain", "sport"},
      {"simmer the onions in butter until soft", "cooking"},
      {"add the garlic and stir the sauce for a minute", "cooking"},
      {"bake the bread in a hot oven for forty minutes", "cooking"},
      {"season the soup with salt and fresh pepper", "cooking"},
      {"whisk the eggs with sugar and fold in the flour", "cooking"},
      {"roast the vegetables with olive oil and thyme", "cooking"},
      {"the central bank raised interest rates again", "finance"},
      {"shares fell as investors sold technology stocks", "finance"},
      {"the company reported higher profit and revenue", "finance"},
      {"bond yields rose after the inflation report", "finance"},
      {"the market closed higher on strong earnings", "finance"},
      {"the fund bought shares of the bank", "finance"},
  };
}

}  // namespace sample
