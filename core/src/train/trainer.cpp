#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/random.hpp>
#include <pcv/runtime.hpp>
#include <pcv/threads.hpp>
#include <pcv/trainer.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <sstream>

#include "train/plots.hpp"

namespace pcv {
namespace {

constexpr const char* kTarget = "pcv.target";
constexpr const char* kLoss = "pcv.loss";
constexpr const char* kProbs = "pcv.probs";  // the loss's class probabilities, with a loss weight
constexpr const char* kPointLogits = "pcv.point_logits";  // segmentation: logits [B, N, C] as [B*N, C]
constexpr const char* kTrainingKey = "pcv.training";      // checkpoint metadata: epoch and history
constexpr const char* kOptimizerPrefix = "optimizer/";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool segmentation(const TrainConfig& c) { return c.task == "segmentation"; }

// The model's graph with the loss appended: (logits, target) -> loss, or with a loss weight
// (embedding, weight, target) -> (loss, class probabilities). A segmentation model's logits
// [B, N, C] are flattened to [B*N, C] first; the target comes flattened to [B*N].
Graph training_graph(const Graph& g, const TrainConfig& c, std::size_t classes) {
  if (g.inputs.size() != 1)
    throw Error(c.model.string() + ": a " + c.task + " graph has one input (the clouds); this one has " +
                std::to_string(g.inputs.size()));
  Graph t = g;
  t.inputs.push_back({kTarget, kInt64, {-1}});
  if (segmentation(c)) {
    if (!c.loss_weight.empty()) throw Error("training config: segmentation takes no loss weight");
    t.nodes.push_back({"flatten_points",
                       "nn.reshape",
                       {{"shape", std::vector<std::int64_t>{-1, static_cast<std::int64_t>(classes)}}},
                       {g.outputs.at(0)},
                       {kPointLogits}});
    t.nodes.push_back({"loss", c.loss_op, c.loss_attrs, {kPointLogits, kTarget}, {kLoss}});
    t.outputs = {kLoss, kPointLogits};
  } else if (c.loss_weight.empty()) {
    t.nodes.push_back({"loss", c.loss_op, c.loss_attrs, {g.outputs.at(0), kTarget}, {kLoss}});
    t.outputs = {kLoss, g.outputs.at(0)};
  } else {
    t.nodes.push_back(
        {"loss", c.loss_op, c.loss_attrs, {g.outputs.at(0), c.loss_weight, kTarget}, {kLoss, kProbs}});
    t.outputs = {kLoss, g.outputs.at(0), kProbs};
  }
  return t;
}

PointCloudDataset open_dataset(const std::filesystem::path& p, const std::vector<std::string>& labels,
                               const TrainConfig& c) {
  if (segmentation(c)) {
    if (labels.empty())
      throw Error(c.model.string() + ": a segmentation model must name its classes (pcv.labels)");
    return PointCloudDataset::from_labelled_clouds(p, labels);
  }
  return std::filesystem::is_directory(p) ? PointCloudDataset::from_class_folders(p, labels)
                                          : PointCloudDataset::from_file_list(p, labels);
}

// Every dataset index `repeat` times: the items of one epoch.
std::vector<std::size_t> repeated_indices(std::size_t size, std::int64_t repeat) {
  std::vector<std::size_t> order(size * static_cast<std::size_t>(repeat));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i % size;
  return order;
}

// Correct predictions (argmax of each row of logits [B, K]) and confusion-matrix entries.
template <class T>
std::int64_t count_correct(const Tensor& logits, const Tensor& labels, ConfusionMatrix* confusion) {
  const std::int64_t b = logits.shape()[0], k = logits.shape()[1];
  const T* p = logits.data<T>();
  const std::int64_t* y = labels.data<std::int64_t>();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < b; ++i) {
    const std::int64_t predicted = std::max_element(p + i * k, p + (i + 1) * k) - (p + i * k);
    correct += predicted == y[i];
    if (confusion) confusion->add(y[i], predicted);
  }
  return correct;
}

std::int64_t correct_predictions(const Tensor& logits, const Tensor& labels, ConfusionMatrix* confusion) {
  if (logits.ndim() != 2)
    throw Error("the model's output has shape " + shape_string(logits.shape()) +
                "; a classifier gives [B, classes]");
  return same_dtype(logits.dtype(), kFloat64) ? count_correct<double>(logits, labels, confusion)
                                              : count_correct<float>(logits, labels, confusion);
}

double scalar(const Tensor& t) {
  return same_dtype(t.dtype(), kFloat64) ? t.data<double>()[0] : double(t.data<float>()[0]);
}

Tensor ones_like(const Tensor& t) {
  Tensor one(t.dtype(), t.shape());
  if (same_dtype(t.dtype(), kFloat64))
    std::fill(one.data<double>(), one.data<double>() + one.numel(), 1.0);
  else
    std::fill(one.data<float>(), one.data<float>() + one.numel(), 1.0f);
  return one;
}

using detail::mix_seed;

// Fisher-Yates with pcv's own generator: the same order on every standard library.
void shuffle(std::vector<std::size_t>& order, std::uint64_t seed) {
  detail::Rng rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
}

nlohmann::json history_json(const std::vector<EpochStats>& h) {
  nlohmann::json out = nlohmann::json::array();
  for (const EpochStats& e : h)
    out.push_back(
        {{"epoch", e.epoch},
         {"lr", e.lr},
         {"train_loss", e.train_loss},
         {"train_accuracy", e.train_accuracy},
         {"val_loss", std::isnan(e.val_loss) ? nlohmann::json() : nlohmann::json(e.val_loss)},
         {"val_accuracy", std::isnan(e.val_accuracy) ? nlohmann::json() : nlohmann::json(e.val_accuracy)},
         {"val_miou", std::isnan(e.val_miou) ? nlohmann::json() : nlohmann::json(e.val_miou)},
         {"seconds", e.seconds},
         {"samples_per_second", e.samples_per_second},
         {"skipped", e.skipped}});
  return out;
}

std::vector<EpochStats> history_from_json(const nlohmann::json& j) {
  std::vector<EpochStats> h;
  const auto number = [](const nlohmann::json& v) { return v.is_null() ? std::nan("") : v.get<double>(); };
  const nlohmann::json null;
  for (const auto& e : j) {
    EpochStats s;
    s.epoch = e.at("epoch").get<std::int64_t>();
    s.lr = e.at("lr").get<double>();
    s.train_loss = e.at("train_loss").get<double>();
    s.train_accuracy = e.at("train_accuracy").get<double>();
    s.val_loss = number(e.at("val_loss"));
    s.val_accuracy = number(e.at("val_accuracy"));
    s.val_miou = number(e.value("val_miou", null));
    s.seconds = e.at("seconds").get<double>();
    s.samples_per_second = e.at("samples_per_second").get<double>();
    s.skipped = e.value("skipped", std::int64_t{0});
    h.push_back(s);
  }
  return h;
}

std::string csv_log(const std::vector<EpochStats>& h) {
  std::ostringstream out;
  out << "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,val_miou,seconds,samples_per_second,"
         "skipped\n";
  out.precision(8);
  for (const EpochStats& e : h) {
    out << e.epoch << ',' << e.lr << ',' << e.train_loss << ',' << e.train_accuracy << ',';
    if (!std::isnan(e.val_loss)) out << e.val_loss;
    out << ',';
    if (!std::isnan(e.val_accuracy)) out << e.val_accuracy;
    out << ',';
    if (!std::isnan(e.val_miou)) out << e.val_miou;
    out << ',' << e.seconds << ',' << e.samples_per_second << ',' << e.skipped << '\n';
  }
  return out.str();
}

// What the best model was chosen by, for its metadata: the epoch and its validation scores.
std::string validation_json(const EpochStats& e, const ConfusionMatrix& m,
                            const std::vector<std::string>& labels, const TrainConfig& c) {
  nlohmann::json per_class = nlohmann::json::object(), iou = nlohmann::json::object();
  const auto acc = m.per_class_accuracy(), ious = m.iou();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!std::isnan(acc[i])) per_class[labels[i]] = acc[i];
    if (!std::isnan(ious[i])) iou[labels[i]] = ious[i];
  }
  nlohmann::json j{
      {"epoch", e.epoch},
      {"data", c.val_data.empty() ? "every " + std::to_string(c.val_every) + "th sample of each class of " +
                                        c.train_data.filename().string()
                                  : c.val_data.filename().string()},
      {"n", m.total()},
      {"loss", e.val_loss},
      {"accuracy", m.accuracy()},
      {"mean_class_accuracy", m.mean_class_accuracy()},
      {"per_class_accuracy", per_class}};
  if (segmentation(c)) {
    j["miou"] = m.mean_iou();
    j["iou"] = iou;
  }
  return j.dump();
}

}  // namespace

Trainer::Trainer(const Registry& registry, TrainConfig config)
    : registry_(registry), config_(std::move(config)) {}

void Trainer::run(bool resume) {
  const TrainConfig& c = config_;
  const auto warn = [&](const std::string& m) {
    if (on_warning) on_warning(m);
  };
  std::filesystem::create_directories(c.output_dir);
  const std::filesystem::path checkpoint_path = c.output_dir / "checkpoint.safetensors";
  const std::filesystem::path model_path = c.output_dir / "model.safetensors";

  Model model = Model::load(resume ? checkpoint_path : c.model);
  PointCloudDataset train_set = open_dataset(c.train_data, model.labels, c);
  std::optional<PointCloudDataset> val_set;
  if (!c.val_data.empty())
    val_set = open_dataset(c.val_data, train_set.labels(), c);
  else if (c.val_every > 0) {
    auto [kept, held_out] = train_set.split_every(c.val_every);
    train_set = std::move(kept);
    val_set = std::move(held_out);
  }
  if (train_set.size() == 0) throw Error(c.train_data.string() + ": no training samples");
  model.labels = train_set.labels();
  model.preprocessing = c.preprocessing.to_json();

  // Training changes weights in place: work on copies, never on the memory-mapped file.
  TensorMap stored;
  TensorMap optimizer_state;
  for (auto& [name, t] : model.tensors) {
    if (name.rfind(kOptimizerPrefix, 0) == 0)
      optimizer_state[name.substr(std::string(kOptimizerPrefix).size())] = t.clone();
    else
      stored[name] = t.clone();
  }
  const Graph inference_graph = model.graph;
  GraphRuntime runtime(registry_, training_graph(inference_graph, c, model.labels.size()), stored,
                       c.model.string());
  auto optimizer = Optimizer::create(c.optimizer);
  std::int64_t first_epoch = 0;
  double best_val = -1;
  if (resume) {
    auto it = model.metadata.find(kTrainingKey);
    if (it == model.metadata.end())
      throw Error(checkpoint_path.string() + ": not a training checkpoint (no '" + kTrainingKey +
                  "' metadata)");
    const auto training = nlohmann::json::parse(it->second);
    first_epoch = training.at("epoch").get<std::int64_t>();
    best_val = training.value("best_val_score", training.value("best_val_accuracy", -1.0));
    history_ = history_from_json(training.at("history"));
    optimizer->load_state(optimizer_state);
  }
  const int threads = c.threads > 0 ? c.threads : num_threads();
  const std::string input_name = inference_graph.inputs[0].name;
  // What the accuracy is read from: the model's logits, or the loss's class probabilities.
  const std::string predictions = segmentation(c)         ? kPointLogits
                                  : c.loss_weight.empty() ? inference_graph.outputs[0]
                                                          : kProbs;
  // Targets go in flat: one per cloud, or one per point of every cloud.
  const auto flat = [](const Tensor& labels) { return labels.reshaped({labels.numel()}); };
  const std::int64_t steps_per_epoch = [&] {
    const auto n = static_cast<std::int64_t>(train_set.size()) * c.blocks_per_cloud;
    const std::int64_t full = (n + c.batch_size - 1) / c.batch_size;
    return c.max_steps_per_epoch > 0 ? std::min(full, c.max_steps_per_epoch) : full;
  }();
  const auto run_start = Clock::now();
  std::int64_t samples_this_run = 0;

  const auto save_model = [&](const std::filesystem::path& path, bool with_training_state, std::int64_t epoch,
                              const std::string& validation = "") {
    Model out;
    // What the initial model says about itself (e.g. how its input images were aligned) carries
    // over; what described the weights it started from does not.
    out.metadata = model.metadata;
    for (const char* stale : {kValidationKey, kEvaluationKey, kTrainingKey, kTaskKey})
      out.metadata.erase(stale);
    if (!validation.empty()) out.metadata[kValidationKey] = validation;
    out.graph = inference_graph;
    out.labels = model.labels;
    out.preprocessing = model.preprocessing;
    if (segmentation(c)) out.metadata[kTaskKey] = c.task;
    for (const auto& [name, t] : runtime.stored()) out.tensors[name] = t;
    if (with_training_state) {
      for (const auto& [name, t] : optimizer->state()) out.tensors[kOptimizerPrefix + name] = t;
      out.metadata[kTrainingKey] = nlohmann::json{
          {"epoch", epoch},
          {"best_val_score", best_val},
          {"history", history_json(history_)},
          {"config", nlohmann::json::parse(
                         c.to_json())}}.dump();
    }
    out.save(path);
  };

  for (std::int64_t epoch = first_epoch; epoch < c.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    EpochStats stats;
    stats.epoch = epoch + 1;
    stats.lr = c.schedule.lr_at(epoch, c.epochs, c.optimizer.lr);
    std::vector<std::size_t> order = repeated_indices(train_set.size(), c.blocks_per_cloud);
    shuffle(order, mix_seed(c.seed, static_cast<std::uint64_t>(epoch)));
    double loss_sum = 0;
    std::int64_t seen = 0, correct = 0;  // targets: clouds, or points for segmentation
    std::int64_t clouds_seen = 0;
    for (std::int64_t step = 0; step < steps_per_epoch; ++step) {
      const std::size_t begin = static_cast<std::size_t>(step * c.batch_size);
      const std::size_t end = std::min(order.size(), begin + static_cast<std::size_t>(c.batch_size));
      const std::uint64_t step_seed =
          mix_seed(c.seed, static_cast<std::uint64_t>(epoch * steps_per_epoch + step) + 1);
      Batch batch = load_batch(train_set, std::span(order).subspan(begin, end - begin), c.preprocessing,
                               c.augmentation.any() ? &c.augmentation : nullptr, step_seed, threads);
      for (const std::string& f : batch.failures) warn(f);
      stats.skipped += static_cast<std::int64_t>(batch.failures.size());
      const std::int64_t b = batch.labels.numel();
      if (b == 0) continue;
      RunOptions options;
      options.num_threads = threads;
      options.seed = step_seed;
      const Tensor target = flat(batch.labels);
      const TensorMap out =
          runtime.forward_for_training({{input_name, batch.clouds}, {kTarget, target}}, options);
      const Tensor& loss = out.at(kLoss);
      const double loss_value = scalar(loss);
      if (!std::isfinite(loss_value))
        throw Error("the loss became " + std::to_string(loss_value) + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                    "; lower the learning rate (now " + std::to_string(stats.lr) + ")");
      runtime.backward({{kLoss, ones_like(loss)}});
      TensorMap parameters;
      for (const std::string& name : runtime.parameter_names()) parameters[name] = runtime.stored().at(name);
      optimizer->step(parameters, runtime.gradients(), stats.lr);
      runtime.zero_gradients();
      loss_sum += loss_value * double(b);
      correct += correct_predictions(out.at(predictions), target, nullptr);
      seen += b;
      clouds_seen += static_cast<std::int64_t>(batch.indices.size());
      samples_this_run += static_cast<std::int64_t>(batch.indices.size());
      if (on_progress) {
        TrainProgress p;
        p.epoch = epoch + 1;
        p.epochs = c.epochs;
        p.step = step + 1;
        p.steps = steps_per_epoch;
        p.loss = loss_sum / double(seen);
        p.accuracy = double(correct) / double(seen);
        const double elapsed = seconds_since(run_start);
        p.samples_per_second = double(samples_this_run) / std::max(elapsed, 1e-9);
        const double steps_done = double((epoch - first_epoch) * steps_per_epoch + step + 1);
        const double steps_left = double((c.epochs - epoch) * steps_per_epoch - step - 1);
        p.eta_seconds = elapsed / steps_done * steps_left;
        on_progress(p);
      }
    }
    if (seen == 0) throw Error("epoch " + std::to_string(epoch + 1) + ": every sample failed to load");
    stats.train_loss = loss_sum / double(seen);
    stats.train_accuracy = double(correct) / double(seen);
    stats.val_loss = stats.val_accuracy = stats.val_miou = std::nan("");

    confusion_ = ConfusionMatrix(model.labels.size());
    if (val_set && val_set->size() > 0) {
      double val_loss = 0;
      std::int64_t val_seen = 0;
      const std::vector<std::size_t> all = repeated_indices(val_set->size(), c.blocks_per_cloud);
      for (std::size_t begin = 0; begin < all.size(); begin += static_cast<std::size_t>(c.batch_size)) {
        const std::size_t end = std::min(all.size(), begin + static_cast<std::size_t>(c.batch_size));
        Batch batch = load_batch(*val_set, std::span(all).subspan(begin, end - begin), c.preprocessing,
                                 nullptr, mix_seed(c.seed, 0xe7a1), threads);
        for (const std::string& f : batch.failures) warn(f);
        if (batch.labels.numel() == 0) continue;
        RunOptions options;
        options.num_threads = threads;
        const Tensor target = flat(batch.labels);
        const TensorMap out = runtime.run({{input_name, batch.clouds}, {kTarget, target}}, options);
        val_loss += scalar(out.at(kLoss)) * double(batch.labels.numel());
        correct_predictions(out.at(predictions), target, &confusion_);
        val_seen += batch.labels.numel();
      }
      if (val_seen > 0) {
        stats.val_loss = val_loss / double(val_seen);
        stats.val_accuracy = confusion_.accuracy();
        if (segmentation(c)) stats.val_miou = confusion_.mean_iou();
      }
    }
    stats.seconds = seconds_since(epoch_start);
    stats.samples_per_second = double(clouds_seen) / std::max(stats.seconds, 1e-9);
    history_.push_back(stats);

    // Outputs: the best model so far (by validation accuracy or mIoU, else the latest), the
    // checkpoint, the log and the plots; each written atomically.
    const double val_score = segmentation(c) ? stats.val_miou : stats.val_accuracy;
    const double score = std::isnan(val_score) ? 0.0 : val_score;
    if (std::isnan(val_score) || score > best_val) {
      best_val = std::max(best_val, score);
      save_model(model_path, false, epoch + 1,
                 std::isnan(val_score) ? "" : validation_json(stats, confusion_, model.labels, c));
    }
    save_model(checkpoint_path, true, epoch + 1);
    write_file_atomically(c.output_dir / "log.csv", csv_log(history_));
    detail::plot_curves(c.output_dir / "curves.png", history_);
    if (confusion_.total() > 0)
      detail::plot_confusion(c.output_dir / "confusion.png", confusion_, model.labels);
    if (on_epoch) on_epoch(stats);
  }
}

}  // namespace pcv
